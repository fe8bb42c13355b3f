/**
 * The README's "Write your own endpoint" snippet is examples/readme-endpoint.ts, word for word; this test
 * keeps the two equal and runs the snippet against a real client, so the README cannot rot.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { createClient, kernelMechanismPreference } from '../../src/index.js';
import { startMyEndpoint } from '../../examples/readme-endpoint.js';
import { tempSocketDir } from '../helpers/servers.js';

const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('README endpoint snippet', () => {
  it('is the code of examples/readme-endpoint.ts', () => {
    const readme = read('README.md');
    const block = /<!-- endpoint-snippet -->\s*```ts\n([\s\S]*?)```\s*<!-- \/endpoint-snippet -->/.exec(readme);
    expect(block, 'README has the endpoint snippet between its markers').to.not.equal(null);
    expect(block?.[1]).to.equal(read('examples/readme-endpoint.ts'));
  });

  it('serves a working endpoint', async () => {
    const sockets = tempSocketDir();
    const served = await startMyEndpoint(sockets.socket('mine'));
    try {
      const client = createClient({ connectTo: served.url });
      const conn = await client.request({
        connection: { networkService: 'anything' },
        mechanismPreferences: [kernelMechanismPreference('nsm-1')],
      });
      expect(conn.networkServiceEndpointName).to.equal('my-endpoint');
      expect(conn.context?.ipContext?.srcIpAddrs[0]).to.match(/^10\.60\.0\.\d+\/32$/);
      await client.close(conn);
    } finally {
      await served.stop();
      sockets.cleanup();
    }
  });
});
