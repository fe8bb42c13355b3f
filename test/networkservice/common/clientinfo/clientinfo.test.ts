import { expect } from 'chai';
import { Connection } from '../../../../src/api/gen/connection.js';
import { NetworkServiceRequest } from '../../../../src/api/gen/networkservice.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { clientInfoClient, clientInfoServer } from '../../../../src/networkservice/common/clientinfo/index.js';
import { createLogger } from '../../../../src/tools/log/index.js';
import { FakeNext } from '../../../helpers/fake-next.js';

const ENV = { NODE_NAME: 'node-1', POD_NAME: 'pod-1', CLUSTER_NAME: 'cluster-1' };

function request(labels: Record<string, string> = {}): NetworkServiceRequest {
  return NetworkServiceRequest.fromPartial({ connection: { id: 'c1', labels } });
}

describe('clientinfo', () => {
  it('adds node, pod and cluster labels from the environment, keeping other labels', async () => {
    const next = new FakeNext();
    const conn = await clientInfoClient({ env: ENV }).request(request({ app: 'web' }), ChainContext.background(), next);
    expect(next.requests[0]?.request.connection?.labels).to.deep.equal({
      app: 'web',
      nodeName: 'node-1',
      podName: 'pod-1',
      clusterName: 'cluster-1',
    });
    expect(conn.labels['nodeName']).to.equal('node-1');
  });

  it('does not overwrite a label the request already has, and says so at debug level', async () => {
    const lines: string[] = [];
    const ctx = ChainContext.background({ logger: createLogger('debug', (_level, line) => lines.push(line)) });
    const next = new FakeNext();
    await clientInfoServer({ env: ENV }).request(request({ podName: 'mine' }), ctx, next);
    const labels = next.requests[0]?.request.connection?.labels;
    expect(labels?.['podName']).to.equal('mine');
    expect(labels?.['nodeName']).to.equal('node-1');
    expect(lines.some((l) => l.includes('podName'))).to.equal(true);
  });

  it('adds nothing for missing or empty variables', async () => {
    const next = new FakeNext();
    await clientInfoClient({ env: { NODE_NAME: 'node-1', POD_NAME: '' } }).request(request(), ChainContext.background(), next);
    expect(next.requests[0]?.request.connection?.labels).to.deep.equal({ nodeName: 'node-1' });
  });

  it('reads process.env by default', async () => {
    const saved = process.env['CLUSTER_NAME'];
    process.env['CLUSTER_NAME'] = 'from-process';
    try {
      const next = new FakeNext();
      await clientInfoClient().request(request(), ChainContext.background(), next);
      expect(next.requests[0]?.request.connection?.labels['clusterName']).to.equal('from-process');
    } finally {
      if (saved === undefined) delete process.env['CLUSTER_NAME'];
      else process.env['CLUSTER_NAME'] = saved;
    }
  });

  it('passes Close through unchanged', async () => {
    const next = new FakeNext();
    const conn = Connection.fromPartial({ id: 'c1', labels: { a: 'b' } });
    await clientInfoClient({ env: ENV }).close(conn, ChainContext.background(), next);
    expect(next.closes).to.have.length(1);
    expect(next.closes[0]?.connection).to.equal(conn);
    expect(conn.labels).to.deep.equal({ a: 'b' });
  });
});
