import { expect } from 'chai';
import { firstValueFrom, toArray } from 'rxjs';
import { NetworkServiceEndpoint, type NetworkServiceEndpointQuery } from '../../../../src/api/gen/registry.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { withClientURL } from '../../../../src/networkservice/common/clienturl/index.js';
import { registryChain } from '../../../../src/registry/core/chain.js';
import { NSE_KIND } from '../../../../src/registry/core/kind.js';
import { connectRegistryClient } from '../../../../src/registry/common/connect/index.js';
import { dialRegistry } from '../../../../src/registry/common/dial/index.js';
import { registryMetadataClient } from '../../../../src/registry/common/metadata/index.js';
import { serveRegistryServer, type ServedRegistry } from '../../../../src/registry/chains/server/index.js';
import { status } from '../../../../src/tools/grpc/status.js';
import { tempSocketDir } from '../../../helpers/servers.js';
import { statusRejection } from '../../../helpers/status.js';

type NSE = NetworkServiceEndpoint;
const nse = (name: string) => NetworkServiceEndpoint.create({ name, url: 'tcp://127.0.0.1:1', networkServiceNames: ['s'] });

describe('registry dial', function () {
  let sockets: ReturnType<typeof tempSocketDir>;
  let registry: ServedRegistry;
  let ctx: ChainContext;

  beforeEach(async () => {
    sockets = tempSocketDir();
    registry = await serveRegistryServer(sockets.socket('registry'));
    ctx = withClientURL(ChainContext.background(), registry.url);
  });
  afterEach(async () => {
    await registry.stop();
    sockets.cleanup();
  });

  it('shares one channel per URL between registrations and finds, and closes it with the last user', async function () {
    const dial = dialRegistry<NSE, NetworkServiceEndpointQuery>();
    const chain = registryChain<NSE, NetworkServiceEndpointQuery>(registryMetadataClient(NSE_KIND), dial, connectRegistryClient(NSE_KIND));
    await chain.register(nse('a'), ctx);
    await chain.register(nse('b'), ctx);
    expect(dial.openChannels).to.equal(1);
    const found = await firstValueFrom(chain.find({ networkServiceEndpoint: undefined, watch: false }, ctx).pipe(toArray()));
    expect(found.map((r) => r.item.name).sort()).to.deep.equal(['a', 'b']);
    expect(dial.openChannels).to.equal(1);
    await chain.unregister(nse('a'), ctx);
    expect(dial.openChannels).to.equal(1);
    await chain.unregister(nse('b'), ctx);
    expect(dial.openChannels).to.equal(0);
  });

  it('a register that fails lets go of its channel', async function () {
    const dial = dialRegistry<NSE, NetworkServiceEndpointQuery>();
    const chain = registryChain<NSE, NetworkServiceEndpointQuery>(registryMetadataClient(NSE_KIND), dial, connectRegistryClient(NSE_KIND));
    const error = await statusRejection(chain.register(NetworkServiceEndpoint.create({ name: 'no-url' }), ctx));
    expect(error.code).to.equal(status.INVALID_ARGUMENT);
    expect(dial.openChannels).to.equal(0);
  });

  it('fails with UNAVAILABLE naming the URL when nothing listens there', async function () {
    const dial = dialRegistry<NSE, NetworkServiceEndpointQuery>({ dialTimeoutMs: 200 });
    const chain = registryChain<NSE, NetworkServiceEndpointQuery>(registryMetadataClient(NSE_KIND), dial, connectRegistryClient(NSE_KIND));
    const nowhere = sockets.socket('nobody');
    const error = await statusRejection(chain.register(nse('a'), withClientURL(ChainContext.background(), nowhere)));
    expect(error.code).to.equal(status.UNAVAILABLE);
    expect(error.details).to.include(nowhere);
    expect(dial.openChannels).to.equal(0);
  });

  it('a registry back after a long outage is reached again within about a second (reconnect backoff stays short)', async function () {
    this.timeout(20_000);
    // Over TCP and killed, as in a crash: the reconnects are refused, which is what grows the backoff.
    let tcp = await serveRegistryServer('tcp://127.0.0.1:0');
    const url = tcp.url;
    const ctx = withClientURL(ChainContext.background(), url);
    const dial = dialRegistry<NSE, NetworkServiceEndpointQuery>({ dialTimeoutMs: 500 });
    const chain = registryChain<NSE, NetworkServiceEndpointQuery>(registryMetadataClient(NSE_KIND), dial, connectRegistryClient(NSE_KIND));
    const a = nse('a');
    await chain.register(a, ctx);
    await tcp.kill();
    // Down for 6 s: with grpc-js's default backoff (1 s, x1.6: attempts near 1, 2.6, 5.2, 9.3 s) the next
    // attempt would come about 3 s after the registry is back; refreshes in between fail at once.
    const failures: string[] = [];
    const until = Date.now() + 6000;
    while (Date.now() < until) {
      failures.push(await chain.register(a, ctx).then(() => 'ok', (e: unknown) => String(e)));
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(failures.filter((f) => f === 'ok'), 'refreshes fail while the registry is down').to.deep.equal([]);
    tcp = await serveRegistryServer(url);
    const back = Date.now();
    let refreshed = false;
    while (!refreshed && Date.now() - back < 10_000) {
      refreshed = await chain.register(a, ctx).then(() => true, () => false);
      if (!refreshed) await new Promise((r) => setTimeout(r, 50));
    }
    const took = Date.now() - back;
    expect(refreshed).to.equal(true);
    expect(dial.openChannels, 'the same pooled channel').to.equal(1);
    // A sanity bound with room for a loaded machine; with the default backoff it takes about 3 s.
    expect(took).to.be.lessThan(2000);
    await chain.unregister(a, ctx);
    await tcp.stop();
  });

  it('without a URL fails with FAILED_PRECONDITION', async function () {
    const chain = registryChain<NSE, NetworkServiceEndpointQuery>(registryMetadataClient(NSE_KIND), dialRegistry(), connectRegistryClient(NSE_KIND));
    const error = await statusRejection(chain.register(nse('a'), ChainContext.background()));
    expect(error.code).to.equal(status.FAILED_PRECONDITION);
  });
});
