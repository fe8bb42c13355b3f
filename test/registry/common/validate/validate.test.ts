import { expect } from 'chai';
import { NetworkService, type NetworkServiceEndpoint, type NetworkServiceEndpointQuery, type NetworkServiceQuery } from '../../../../src/api/gen/registry.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { NS_KIND, NSE_KIND } from '../../../../src/registry/core/kind.js';
import { toRegistryHandler } from '../../../../src/registry/core/chain.js';
import { validateRegistry } from '../../../../src/registry/common/validate/index.js';
import { status } from '../../../../src/tools/grpc/status.js';
import { statusRejection } from '../../../helpers/status.js';
import { FakeRegistryNext, nse } from '../../helpers/fake-registry.js';

const ctx = ChainContext.background();

describe('registry validate', function () {
  it('refuses invalid endpoints with INVALID_ARGUMENT saying why, without calling next', async function () {
    const next = new FakeRegistryNext();
    const element = validateRegistry<NetworkServiceEndpoint, NetworkServiceEndpointQuery>(NSE_KIND);
    const cases: [NetworkServiceEndpoint, RegExp][] = [
      [nse(''), /name is empty/],
      [nse('a', { url: '' }), /url is empty/],
      [nse('a', { url: 'nowhere' }), /not an address/],
      [nse('a', { networkServiceNames: ['ok', ''] }), /network_service_names\[1\]/],
    ];
    for (const [item, why] of cases) {
      const error = await statusRejection(element.register(item, ctx, next));
      expect(error.code).to.equal(status.INVALID_ARGUMENT);
      expect(error.details).to.match(why);
    }
    expect(next.registered).to.deep.equal([]);
    expect((await element.register(nse('good'), ctx, next)).name).to.equal('good');
    expect((await statusRejection(element.unregister(nse(''), ctx, next))).code).to.equal(status.INVALID_ARGUMENT);
  });

  it('refuses a network service with a match without routes or a bad payload', async function () {
    const handler = toRegistryHandler(validateRegistry<NetworkService, NetworkServiceQuery>(NS_KIND));
    const noRoutes = NetworkService.fromPartial({ name: 'ns', matches: [{ sourceSelector: { a: 'b' }, routes: [] }] });
    expect((await statusRejection(handler.register(noRoutes, ctx))).details).to.match(/matches\[0\] has no routes/);
    const payload = NetworkService.fromPartial({ name: 'ns', payload: 'ip' });
    expect((await statusRejection(handler.register(payload, ctx))).details).to.match(/payload/);
    const forwarders = NetworkService.fromPartial({ name: 'fwd', matches: [{ metadata: { labels: { p2p: 'true' } }, routes: [] }] });
    expect((await handler.register(forwarders, ctx)).name).to.equal('fwd');
  });
});
