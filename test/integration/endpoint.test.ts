/**
 * A client and the icmp-responder example endpoint over real gRPC, on a unix socket and on loopback TCP.
 */
import { expect } from 'chai';
import { Client, credentials, type ServiceError } from '@grpc/grpc-js';
import { Connection, State } from '../../src/api/gen/connection.js';
import { NetworkServiceRequest, NetworkServiceService } from '../../src/api/gen/networkservice.js';
import {
  ChainContext,
  createClient,
  grpcTarget,
  kernelMechanismPreference,
  parseAddress,
  status,
  unaryCall,
  decodeJwt,
  type ServedEndpoint,
} from '../../src/index.js';
import { startIcmpResponder } from '../../examples/icmp-responder.js';
import { tempSocketDir } from '../helpers/servers.js';

const kernel = kernelMechanismPreference('nsm-1');

for (const transport of ['unix', 'tcp'] as const) {
  describe(`client and endpoint over ${transport}`, () => {
    const sockets = tempSocketDir();
    let endpoint: ServedEndpoint;

    before(async () => {
      endpoint = await startIcmpResponder({
        name: 'icmp-responder',
        listenOn: transport === 'unix' ? sockets.socket('nse') : 'tcp://127.0.0.1:0',
        // A /30 has exactly two usable addresses: one connection's worth, so release is observable.
        cidrPrefixes: ['10.20.0.0/30'],
      });
    });
    after(async () => {
      await endpoint.stop();
      sockets.cleanup();
    });

    it('requests, refreshes and closes; the connection is complete and seen from the client', async () => {
      const client = createClient({ name: 'nsc', connectTo: endpoint.url });
      const conn = await client.request({ connection: { networkService: 'icmp-responder' }, mechanismPreferences: [kernel] });

      const segments = conn.path?.pathSegments ?? [];
      expect(segments.map((s) => s.name)).to.deep.equal(['nsc', 'icmp-responder']);
      expect(conn.path?.index).to.equal(0);
      expect(conn.id).to.equal(segments[0]?.id);
      expect(conn.id).to.not.equal(segments[1]?.id);
      for (const segment of segments) {
        // Unsigned (insecure) tokens have an empty signature part.
        expect(segment.token).to.match(/^[\w-]+\.[\w-]+\.[\w-]*$/);
        expect(segment.expires?.seconds ?? 0).to.be.greaterThan(Date.now() / 1000);
        expect(decodeJwt(segment.token).claims.sub).to.be.a('string');
      }
      expect(conn.mechanism?.type).to.equal('KERNEL');
      expect(conn.mechanism?.cls).to.equal('LOCAL');
      expect(conn.mechanism?.parameters['name']).to.equal('nsm-1');
      expect(conn.context?.ipContext?.srcIpAddrs).to.have.length(1);
      expect(conn.context?.ipContext?.dstIpAddrs).to.have.length(1);
      expect(conn.context?.ipContext?.srcIpAddrs[0]).to.match(/^10\.20\.0\.[12]\/32$/);
      expect(conn.state).to.equal(State.UP);
      expect(conn.networkServiceEndpointName).to.equal('icmp-responder');

      const refreshed = await client.request({ connection: conn, mechanismPreferences: [kernel] });
      expect(refreshed.id).to.equal(conn.id);
      expect(refreshed.path?.pathSegments[1]?.id).to.equal(segments[1]?.id);
      expect(refreshed.context?.ipContext?.srcIpAddrs).to.deep.equal(conn.context?.ipContext?.srcIpAddrs);

      // The pool is full while the connection lives: a second connection cannot get addresses.
      const other = createClient({ name: 'nsc-2', connectTo: endpoint.url });
      const full = (await other
        .request({ connection: { networkService: 'icmp-responder' }, mechanismPreferences: [kernel] })
        .catch((e: unknown) => e)) as ServiceError;
      expect(full.code).to.equal(status.RESOURCE_EXHAUSTED);

      await client.close(refreshed);
      // After Close the addresses are back: the other client gets them.
      const second = await other.request({ connection: { networkService: 'icmp-responder' }, mechanismPreferences: [kernel] });
      expect(second.context?.ipContext?.srcIpAddrs).to.have.length(1);
      expect(endpoint.connections.size).to.equal(1);
      await other.close(second);
      expect(endpoint.connections.size).to.equal(0);
    });

    it('the client\'s token travels in the path: the endpoint copies it from the call\'s metadata', async () => {
      const client = createClient({ name: 'nsc', connectTo: endpoint.url });
      const conn = await client.request({ connection: { networkService: 'icmp-responder' }, mechanismPreferences: [kernel] });
      const nscToken = conn.path?.pathSegments[0]?.token ?? '';
      // The client's token was minted by the client, copied by the endpoint from gRPC metadata.
      expect(decodeJwt(nscToken).claims.sub).to.include('nsc');
      expect(decodeJwt(conn.path?.pathSegments[1]?.token ?? '').claims.sub).to.not.equal(decodeJwt(nscToken).claims.sub);
      await client.close(conn);
    });

    describe('bad input gets a status that names the problem, and the server keeps serving', () => {
      let raw: Client;
      const ctx = ChainContext.background();
      before(() => {
        raw = new Client(grpcTarget(parseAddress(endpoint.url)), credentials.createInsecure());
      });
      after(() => raw.close());

      const send = (request: NetworkServiceRequest): Promise<ServiceError> =>
        unaryCall(raw, NetworkServiceService.request, request, ctx).then(
          () => {
            throw new Error('expected an error');
          },
          (e: unknown) => e as ServiceError,
        );
      const good = (id: string): NetworkServiceRequest =>
        NetworkServiceRequest.fromPartial({
          connection: { id, networkService: 'icmp-responder', path: { index: 0, pathSegments: [{ name: 'raw', id }] } },
          mechanismPreferences: [kernel],
        });

      const cases: [string, () => NetworkServiceRequest, RegExp][] = [
        ['without connection', () => NetworkServiceRequest.fromPartial({ mechanismPreferences: [kernel] }), /no connection/],
        ['without path', () => NetworkServiceRequest.fromPartial({ connection: { id: 'x', networkService: 'icmp-responder' }, mechanismPreferences: [kernel] }), /no path/],
        [
          'with an index out of range',
          () => {
            const r = good('x');
            if (r.connection?.path !== undefined) r.connection.path.index = 5;
            return r;
          },
          /index/i,
        ],
        [
          'with an id that does not match its segment',
          () => {
            const r = good('x');
            if (r.connection !== undefined) r.connection.id = 'someone-else';
            return r;
          },
          /should be equal/,
        ],
        [
          'with no supported mechanism',
          () => {
            const r = good('x');
            r.mechanismPreferences = [{ cls: 'LOCAL', type: 'CARRIER_PIGEON', parameters: {} }];
            return r;
          },
          /CARRIER_PIGEON/,
        ],
        [
          'with an empty network service name',
          () => {
            const r = good('x');
            if (r.connection !== undefined) r.connection.networkService = '';
            return r;
          },
          /network service/,
        ],
      ];

      for (const [name, make, message] of cases) {
        it(name, async () => {
          const error = await send(make());
          expect(error.code).to.equal(status.INVALID_ARGUMENT);
          expect(error.details).to.match(message);
          // Still serving, and nothing was held for the bad request.
          const conn = await unaryCall(raw, NetworkServiceService.request, good(`ok-${name}`), ctx);
          expect(conn.networkServiceEndpointName).to.equal('icmp-responder');
          await unaryCall(raw, NetworkServiceService.close, Connection.fromPartial(conn), ctx);
        });
      }
    });
  });
}
