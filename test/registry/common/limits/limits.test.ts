/**
 * The registry `limits` element, and the registry path limits of `grpcmetadata` and `updatepath`: what
 * the fuzz tests found stored, forwarded or sent back in headers no client could read is refused first.
 */
import { expect } from 'chai';
import { Metadata } from '@grpc/grpc-js';
import { firstValueFrom, toArray } from 'rxjs';
import { NetworkServiceEndpoint, NetworkServiceEndpointQuery } from '../../../../src/api/gen/registry.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { MAX_REGISTRY_PATH_LENGTH, parseRegistryPath, withRegistryPath } from '../../../../src/registry/common/grpcmetadata/index.js';
import { limitsRegistry } from '../../../../src/registry/common/limits/index.js';
import { updatePathRegistryServer } from '../../../../src/registry/common/updatepath/index.js';
import { NSE_KIND } from '../../../../src/registry/core/kind.js';
import { INCOMING_METADATA } from '../../../../src/tools/grpc/keys.js';
import { NsmStatusError, status } from '../../../../src/tools/grpc/status.js';
import { testTokenGenerator } from '../../../../src/tools/sandbox/index.js';
import { statusRejection } from '../../../helpers/status.js';
import { FakeRegistryNext, nse } from '../../helpers/fake-registry.js';

const ctx = ChainContext.background();

describe('registry limits', function () {
  it('refuses oversized items on Register and Unregister without calling next, naming the field', async function () {
    const next = new FakeRegistryNext();
    const element = limitsRegistry<NetworkServiceEndpoint, NetworkServiceEndpointQuery>(NSE_KIND);
    const cases: [NetworkServiceEndpoint, RegExp][] = [
      [nse('n'.repeat(1 << 20)), /^NetworkServiceEndpoint\.name is 1048576 characters long: at most 4096$/],
      [nse('a', { networkServiceNames: Array.from({ length: 10_000 }, (_, i) => `svc-${i}`) }), /network_service_names has 10000 entries: at most 1024/],
      [nse('a', { networkServiceLabels: { svc: { labels: Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, 'v'])) } } }), /network_service_labels\["svc"\]\.labels has 5000 entries/],
      [nse('a', { expirationTime: { seconds: 9e15, nanos: 0 } }), /expiration_time\.seconds is 9000000000000000/],
      [nse('a', { pathIds: Array.from({ length: 2000 }, () => 'spiffe://x') }), /path_ids has 2000 entries/],
    ];
    for (const [item, why] of cases) {
      for (const call of [element.register(item, ctx, next), element.unregister(item, ctx, next)]) {
        const error = await statusRejection(call);
        expect(error.code).to.equal(status.INVALID_ARGUMENT);
        expect(error.details).to.match(why);
      }
    }
    expect(next.registered).to.deep.equal([]);
    expect(next.unregistered).to.deep.equal([]);
    expect((await element.register(nse('ok'), ctx, next)).name).to.equal('ok');
  });

  it('refuses an oversized Find query when subscribed, and passes a fitting one on', async function () {
    const element = limitsRegistry<NetworkServiceEndpoint, NetworkServiceEndpointQuery>(NSE_KIND);
    const next = new FakeRegistryNext();
    const big = NetworkServiceEndpointQuery.fromPartial({ networkServiceEndpoint: { name: 'x'.repeat(5000) }, watch: true });
    const error: unknown = await firstValueFrom(element.find(big, ctx, next)).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(NsmStatusError);
    expect((error as NsmStatusError).details).to.match(/NetworkServiceEndpointQuery\.network_service_endpoint\.name is 5000 characters long/);
    const small = NetworkServiceEndpointQuery.fromPartial({ networkServiceEndpoint: { name: 'x' } });
    expect(await firstValueFrom(element.find(small, ctx, next).pipe(toArray()))).to.deep.equal([]);
  });

  it('refuses a registry path of more than 256 segments, or one that would not fit in the response headers', async function () {
    const many = JSON.stringify({ Index: 0, PathSegments: Array.from({ length: 10_000 }, () => ({})) });
    expect(() => parseRegistryPath(many)).to.throw(/registry path has 10000 segments: at most 256/);

    const next = new FakeRegistryNext();
    const element = updatePathRegistryServer<NetworkServiceEndpoint, NetworkServiceEndpointQuery>(NSE_KIND, testTokenGenerator('registry'));
    // The caller's token is taken from the call's metadata; an earlier hop's stays in the path.
    const long = { index: 1, segments: [{ token: 't'.repeat(MAX_REGISTRY_PATH_LENGTH) }, { token: '' }] };
    const incoming = new Metadata();
    const error = await statusRejection(element.register(nse('a'), withRegistryPath(ctx, long).withValue(INCOMING_METADATA, incoming), next));
    expect(error.code).to.equal(status.INVALID_ARGUMENT);
    expect(error.details).to.match(/registry path would be \d+ characters long with this hop's segment: at most 32768/);
    expect(next.registered).to.deep.equal([]);
  });
});
