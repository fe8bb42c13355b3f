import { expect } from 'chai';
import { Connection, ConnectionEventType, type ConnectionEvent } from '../../../../src/api/gen/connection.js';
import { NetworkServiceRequest } from '../../../../src/api/gen/networkservice.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { namedChain } from '../../../../src/networkservice/core/chain.js';
import type { NetworkServiceElement } from '../../../../src/networkservice/core/types.js';
import { authorizeClient, authorizeMonitorEvents, authorizeServer } from '../../../../src/networkservice/common/authorize/index.js';
import { beginServer, eventFactoryFrom, type EventFactory } from '../../../../src/networkservice/common/begin/index.js';
import { ownConnections, policy, type PathPolicyInput } from '../../../../src/tools/policy/index.js';
import { insecureSecurity } from '../../../../src/tools/security/index.js';
import { status } from '../../../../src/tools/grpc/status.js';
import { createUnsignedTokenGenerator } from '../../../../src/tools/token/index.js';
import { FakeNext } from '../../../helpers/fake-next.js';
import { statusRejection } from '../../../helpers/status.js';

function threeHops(index: number): Connection {
  return Connection.fromPartial({
    id: `conn-${index}`,
    networkService: 'svc',
    path: {
      index,
      pathSegments: [
        { name: 'nsc', id: 'conn-0', token: 't0' },
        { name: 'nsmgr', id: 'conn-1', token: 't1' },
        { name: 'nse', id: 'conn-2', token: 't2' },
      ],
    },
  });
}

describe('authorize', () => {
  const security = insecureSecurity();
  const ctx = ChainContext.background();

  describe('server', () => {
    it('judges the caller\'s side of the path, up to this hop, before the rest of the chain runs', async () => {
      const seen: PathPolicyInput[] = [];
      const record = policy('record', (input: PathPolicyInput) => void seen.push(input));
      const deny = policy('deny', () => ({ reason: 'no', segment: 0, segmentName: 'nsc' }));
      const next = new FakeNext();
      const allowing = authorizeServer(security, [record]);
      await allowing.request(NetworkServiceRequest.fromPartial({ connection: threeHops(1) }), ctx, next);
      expect(seen[0]?.segments.map((s) => s.token)).to.deep.equal(['t0', 't1']);
      expect(seen[0]?.side).to.equal('server');
      expect(next.requests).to.have.length(1);

      const denying = authorizeServer(security, [record, deny]);
      const error = await statusRejection(denying.request(NetworkServiceRequest.fromPartial({ connection: threeHops(1) }), ctx, next));
      expect(error.code).to.equal(status.PERMISSION_DENIED);
      expect(error.message).to.contain('policy "deny" failed at path segment 0 (nsc): no');
      expect(next.requests, 'the rest of the chain never ran').to.have.length(1);
      await statusRejection(denying.close(threeHops(1), ctx, next));
      expect(next.closes).to.have.length(0);
    });

    it('lets the role\'s own events through: a timeout\'s Close with expired tokens is not refused (sdk#1512)', async () => {
      let denied = false;
      const gate = policy('gate', () => (denied ? { reason: 'tokens expired' } : undefined));
      let factory: EventFactory | undefined;
      const closes: Connection[] = [];
      const capture: NetworkServiceElement = {
        request: async (request, c) => {
          factory = eventFactoryFrom(c);
          return Connection.fromPartial(request.connection ?? {});
        },
        close: async (conn) => void closes.push(conn),
      };
      const chain = namedChain('t', [beginServer(), authorizeServer(security, [gate]), capture]);
      const conn = threeHops(0);
      await chain.request(NetworkServiceRequest.fromPartial({ connection: conn }), ctx);
      denied = true;
      const refused = await statusRejection(chain.request(NetworkServiceRequest.fromPartial({ connection: conn }), ctx));
      expect(refused.code).to.equal(status.PERMISSION_DENIED);
      expect(factory).to.not.equal(undefined);
      await factory!.close();
      expect(closes, 'the local Close went through').to.have.length(1);
    });

    it('with no policies (insecure mode) only passes calls on', async () => {
      const next = new FakeNext();
      await authorizeServer(security).request(NetworkServiceRequest.fromPartial({ connection: threeHops(1) }), ctx, next);
      expect(next.requests).to.have.length(1);
    });
  });

  describe('client', () => {
    it('judges the returned path from this hop on, and closes a refused connection before refusing', async () => {
      const seen: PathPolicyInput[] = [];
      const deny = policy('deny', (input: PathPolicyInput) => (seen.push(input), { reason: 'forged', segment: input.offset + 1 }));
      const next = new FakeNext();
      next.onRequest = async () => threeHops(1);
      const error = await statusRejection(authorizeClient(security, [deny]).request(NetworkServiceRequest.fromPartial({ connection: threeHops(1) }), ctx, next));
      expect(error.code).to.equal(status.PERMISSION_DENIED);
      expect(error.message).to.contain('policy "deny" failed at path segment 2');
      expect(seen[0]?.segments.map((s) => s.token)).to.deep.equal(['t1', 't2']);
      expect(seen[0]?.side).to.equal('client');
      expect(next.closes.map((c) => c.connection.id), 'the connection the next hops made was closed').to.deep.equal(['conn-1']);
    });

    it('returns the connection when every policy passes, and closes nothing', async () => {
      const next = new FakeNext();
      next.onRequest = async () => threeHops(1);
      const conn = await authorizeClient(security, [policy('ok', () => undefined)]).request(NetworkServiceRequest.fromPartial({ connection: threeHops(1) }), ctx, next);
      expect(conn.id).to.equal('conn-1');
      expect(next.closes).to.have.length(0);
    });
  });

  describe('monitor', () => {
    const tokenOf = async (subject: string): Promise<string> => (await createUnsignedTokenGenerator({ subject, lifetimeMs: 60_000 })(undefined)).token;

    it('a caller sees only the connections whose path it signed; the initial state is always sent', async () => {
      const mine = Connection.fromPartial({ id: 'mine', path: { index: 0, pathSegments: [{ name: 'nsc', token: await tokenOf('spiffe://td/nsc/me') }] } });
      const theirs = Connection.fromPartial({ id: 'theirs', path: { index: 0, pathSegments: [{ name: 'nsc', token: await tokenOf('spiffe://td/nsc/other') }] } });
      const visible = authorizeMonitorEvents([ownConnections], 'spiffe://td/nsc/me');
      const initial: ConnectionEvent = { type: ConnectionEventType.INITIAL_STATE_TRANSFER, connections: { mine, theirs } };
      expect(Object.keys(visible(initial)?.connections ?? {})).to.deep.equal(['mine']);
      expect(visible({ type: ConnectionEventType.UPDATE, connections: { theirs } }), 'an update of someone else\'s connection is not sent').to.equal(undefined);
      const stranger = authorizeMonitorEvents([ownConnections], 'spiffe://td/nsc/nobody');
      expect(stranger(initial)?.connections).to.deep.equal({});
      expect(authorizeMonitorEvents([ownConnections], undefined)(initial)?.connections, 'a caller without identity sees nothing').to.deep.equal({});
      expect(authorizeMonitorEvents([], undefined)(initial), 'no policies: everything').to.equal(initial);
    });
  });
});
