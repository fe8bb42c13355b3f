/**
 * The size limits of `validate` (limits.ts): what the fuzz tests found elements echoing, storing or
 * timing out on is refused at the door, with a short message naming the field and the limit.
 */
import { expect } from 'chai';
import { Connection } from '../../../../src/api/gen/connection.js';
import { ConnectionContext } from '../../../../src/api/gen/connectioncontext.js';
import { NetworkServiceRequest } from '../../../../src/api/gen/networkservice.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import {
  MAX_ENTRIES,
  MAX_MECHANISM_PREFERENCES,
  MAX_PATH_SEGMENTS,
  MAX_STRING,
  MAX_TOKEN,
  messageProblem,
  validateServer,
} from '../../../../src/networkservice/common/validate/index.js';
import { status } from '../../../../src/tools/grpc/status.js';
import { FakeNext } from '../../../helpers/fake-next.js';
import { statusRejection } from '../../../helpers/status.js';

const ctx = ChainContext.background();

function request(change: (conn: Connection, request: NetworkServiceRequest) => void): NetworkServiceRequest {
  const r = NetworkServiceRequest.fromPartial({
    connection: { id: 'c', networkService: 'svc', path: { index: 0, pathSegments: [{ name: 'nsc', id: 'c' }] } },
    mechanismPreferences: [{ cls: 'LOCAL', type: 'KERNEL' }],
  });
  change(r.connection as Connection, r);
  return r;
}

describe('validate: size limits', function () {
  it('refuses oversized requests with INVALID_ARGUMENT naming the field, without echoing the value', async function () {
    const segments = Array.from({ length: 10_000 }, (_, i) => ({ name: `hop-${i}`, id: `id-${i}`, token: '', expires: undefined, metrics: {} }));
    const cases: [string, (conn: Connection, r: NetworkServiceRequest) => void, RegExp][] = [
      ['a huge network service name', (c) => void (c.networkService = 'n'.repeat(MAX_STRING + 1)), /request\.connection\.network_service is 4097 characters long: at most 4096/],
      ['10,000 path segments', (c) => void ((c.path ?? { pathSegments: [] }).pathSegments = segments), /path_segments has 10000 segments: at most 256/],
      ['a huge token', (c) => void ((c.path?.pathSegments[0] ?? { token: '' }).token = 't'.repeat(MAX_TOKEN + 1)), /path_segments\[0\]\.token is 65537 characters long/],
      ['a label map of 20,000 entries', (c) => void (c.labels = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, 'v']))), /labels has 20000 entries: at most 1024/],
      ['a 1 MB label key', (c) => void (c.labels = { ['k'.repeat(1 << 20)]: 'v' }), /labels has a key of 1048576 characters/],
      ['too many mechanism preferences', (_c, r) => void (r.mechanismPreferences = Array.from({ length: MAX_MECHANISM_PREFERENCES + 1 }, () => ({ cls: 'LOCAL', type: 'KERNEL', parameters: {} }))), /mechanism_preferences has 33 entries: at most 32/],
      ['a long mechanism type', (c) => void (c.mechanism = { cls: 'LOCAL', type: 'K'.repeat(200), parameters: {} }), /mechanism\.type is 200 characters long: at most 128/],
      ['an expiry past year 9999', (c) => void ((c.path?.pathSegments[0] ?? { expires: undefined }).expires = { seconds: 253_402_300_800, nanos: 0 }), /expires\.seconds is 253402300800/],
      ['nanos past a second', (c) => void ((c.path?.pathSegments[0] ?? { expires: undefined }).expires = { seconds: 1, nanos: 1_000_000_000 }), /expires\.nanos is 1000000000/],
      ['too many addresses', (c) => void (c.context = ConnectionContext.fromPartial({ ipContext: { srcIpAddrs: Array.from({ length: MAX_ENTRIES + 1 }, () => '10.0.0.1/32') } })), /src_ip_addrs has 1025 entries/],
    ];
    const next = new FakeNext();
    const element = validateServer();
    for (const [name, change, why] of cases) {
      const error = await statusRejection(element.request(request(change), ctx, next));
      expect(error.code, name).to.equal(status.INVALID_ARGUMENT);
      expect(error.details, name).to.match(why);
      expect(error.details.length, name).to.be.below(300);
    }
    expect(MAX_PATH_SEGMENTS).to.equal(256);
  });

  it('applies the same limits to Close, and passes what is within them', async function () {
    const element = validateServer();
    const next = new FakeNext();
    const conn = request(() => undefined).connection as Connection;
    await element.close(conn, ctx, next);
    conn.labels = { big: 'v'.repeat(MAX_STRING + 1) };
    expect((await statusRejection(element.close(conn, ctx, next))).details).to.match(/connection\.labels\["big"\] is 4097 characters long/);
    expect(messageProblem(request((c) => void (c.labels = { a: 'v'.repeat(MAX_STRING) })), 'request')).to.equal(undefined);
  });
});
