import { expect } from 'chai';
import * as fs from 'node:fs';
import * as api from '../../src/api/index.js';
import type { MessageFns } from '../../src/api/index.js';

interface Vector {
  name: string;
  type: string;
  hex: string;
  protojson: unknown;
}

const fixture = JSON.parse(fs.readFileSync(new URL('../fixtures/wire-vectors.json', import.meta.url), 'utf8')) as {
  vectors: Vector[];
};

/** Every message type of the API by its full proto name, as taken from the public `nsm-sdk/api` entry point. */
const messages: Record<string, MessageFns<object>> = {
  'connectioncontext.IpNeighbor': api.IpNeighbor,
  'connectioncontext.Route': api.Route,
  'connectioncontext.IpFamily': api.IpFamily,
  'connectioncontext.ExtraPrefixRequest': api.ExtraPrefixRequest,
  'connectioncontext.PolicyRoute': api.PolicyRoute,
  'connectioncontext.IPContext': api.IPContext,
  'connectioncontext.DNSConfig': api.DNSConfig,
  'connectioncontext.DNSContext': api.DNSContext,
  'connectioncontext.EthernetContext': api.EthernetContext,
  'connectioncontext.ConnectionContext': api.ConnectionContext,
  'connection.Mechanism': api.Mechanism,
  'connection.PathSegment': api.PathSegment,
  'connection.Path': api.Path,
  'connection.Connection': api.Connection,
  'connection.ConnectionEvent': api.ConnectionEvent,
  'connection.MonitorScopeSelector': api.MonitorScopeSelector,
  'networkservice.NetworkServiceRequest': api.NetworkServiceRequest,
  'registry.NetworkService': api.NetworkService,
  'registry.Match': api.Match,
  'registry.Metadata': api.Metadata,
  'registry.Destination': api.Destination,
  'registry.NetworkServiceLabels': api.NetworkServiceLabels,
  'registry.NetworkServiceEndpoint': api.NetworkServiceEndpoint,
  'registry.NetworkServiceQuery': api.NetworkServiceQuery,
  'registry.NetworkServiceEndpointQuery': api.NetworkServiceEndpointQuery,
  'registry.NetworkServiceResponse': api.NetworkServiceResponse,
  'registry.NetworkServiceEndpointResponse': api.NetworkServiceEndpointResponse,
  'ipam.PrefixRequest': api.PrefixRequest,
  'ipam.PrefixResponse': api.PrefixResponse,
};

function codec(type: string): MessageFns<object> {
  const fns = messages[type];
  if (fns === undefined) throw new Error(`wire vector names an unknown message type: ${type}`);
  return fns;
}

function bytes(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

function toHex(data: Uint8Array): string {
  return Buffer.from(data).toString('hex');
}

function vector(name: string): Vector {
  const found = fixture.vectors.find((v) => v.name === name);
  if (found === undefined) throw new Error(`no wire vector named ${name}`);
  return found;
}

function decoded<T>(fns: MessageFns<T>, name: string): T {
  return fns.decode(bytes(vector(name).hex));
}

// 2026-01-01T00:00:00Z, the time the Go side wrote into every timestamp (with 500 ns).
const EXPIRES = { seconds: 1_767_225_600, nanos: 500 };

describe('api wire compatibility with upstream Go', () => {
  it('has all 18 vectors, each naming a known message type (each gets its own tests below)', () => {
    expect(fixture.vectors).to.have.length(18);
    expect(new Set(fixture.vectors.map((v) => v.name)).size).to.equal(18);
    for (const v of fixture.vectors) expect(() => codec(v.type), v.name).to.not.throw();
  });

  it('fails loudly on an unknown type', () => {
    expect(() => codec('connection.NoSuchMessage')).to.throw(/unknown message type: connection\.NoSuchMessage/);
  });

  for (const v of fixture.vectors) {
    describe(`${v.name} (${v.type})`, () => {
      it('decodes to the same message as its protojson', () => {
        const fns = codec(v.type);
        expect(fns.decode(bytes(v.hex))).to.deep.equal(fns.fromJSON(v.protojson));
      });

      it('encodes back to the same bytes', () => {
        const fns = codec(v.type);
        expect(toHex(fns.encode(fns.decode(bytes(v.hex))).finish())).to.equal(v.hex);
        expect(toHex(fns.encode(fns.fromJSON(v.protojson)).finish())).to.equal(v.hex);
      });

      it('writes exactly upstream protojson (nanosecond timestamps included)', () => {
        const fns = codec(v.type);
        expect(fns.toJSON(fns.decode(bytes(v.hex)))).to.deep.equal(v.protojson);
      });
    });
  }

  describe('fields land where upstream put them', () => {
    it('Connection{id:"a"} is 0a0161 both ways', () => {
      expect(vector('connection-id-only').hex).to.equal('0a0161');
      expect(toHex(api.Connection.encode(api.Connection.create({ id: 'a' })).finish())).to.equal('0a0161');
      expect(decoded(api.Connection, 'connection-id-only')).to.deep.equal(api.Connection.create({ id: 'a' }));
    });

    it('the full connection', () => {
      const c = decoded(api.Connection, 'connection-full');
      expect(c.id).to.equal('conn-1');
      expect(c.state).to.equal(api.State.RESELECT_REQUESTED);
      expect(c.mechanism).to.deep.equal({ cls: 'LOCAL', type: 'KERNEL', parameters: { name: 'nsm-1' } });
      expect(c.labels).to.deep.equal({ app: 'nsc' });
      expect(c.path?.index).to.equal(1);
      expect(c.path?.pathSegments.map((s) => [s.name, s.id, s.token])).to.deep.equal([
        ['nsc', 'conn-0', 't0'],
        ['nsmgr-1', 'conn-1', 't1'],
      ]);
      expect(c.path?.pathSegments[0]?.expires).to.deep.equal(EXPIRES);
      expect(c.path?.pathSegments[0]?.metrics).to.deep.equal({ rx: '1' });
      expect(c.networkServiceEndpointName).to.equal('icmp-1');
      expect(c.payload).to.equal(api.Payload.IP);
      expect(c.context?.MTU).to.equal(1446);
      expect(c.context?.ipContext?.srcIpAddrs).to.deep.equal(['172.16.0.2/32', 'fd00::2/128']);
      expect(c.context?.ipContext?.extraPrefixRequest[0]?.addrFamily?.family).to.equal(api.IpFamily_Family.IPV6);
      expect(c.context?.ethernetContext?.vlanTag).to.equal(100);
      expect(c.context?.extraContext).to.deep.equal({ k: 'v' });
      expect(c.context?.dnsContext?.configs[0]?.searchDomains).to.deep.equal(['svc.cluster.local']);
    });

    it('the path helpers read the decoded path as upstream would', () => {
      const c = decoded(api.Connection, 'connection-full');
      expect(api.getCurrentPathSegment(c)?.name).to.equal('nsmgr-1');
      expect(api.getPrevPathSegment(c)?.name).to.equal('nsc');
      expect(api.getNextPathSegment(c)).to.equal(undefined);
    });

    it('a non-default enum and a default index', () => {
      expect(decoded(api.Connection, 'connection-state-down').state).to.equal(api.State.DOWN);
      const path = decoded(api.Path, 'path-index-zero');
      expect(path.index).to.equal(0);
      expect(path.pathSegments).to.have.length(1);
    });

    it('a request carries its connection', () => {
      const r = decoded(api.NetworkServiceRequest, 'request-minimal');
      expect(r.connection?.id).to.equal('c');
      expect(r.connection?.networkService).to.equal('ns');
      const full = decoded(api.NetworkServiceRequest, 'request-full');
      expect(full.connection).to.deep.equal(decoded(api.Connection, 'connection-full'));
    });

    it('connection events: a map of connections, and an empty event', () => {
      const e = decoded(api.ConnectionEvent, 'connection-event-update');
      expect(e.type).to.equal(api.ConnectionEventType.UPDATE);
      expect(Object.keys(e.connections)).to.deep.equal(['conn-1']);
      expect(e.connections['conn-1']?.networkService).to.equal('icmp-responder');
      expect(vector('connection-event-initial').hex).to.equal('');
      expect(decoded(api.ConnectionEvent, 'connection-event-initial')).to.deep.equal(api.ConnectionEvent.create());
    });

    it('the monitor scope selector', () => {
      const s = decoded(api.MonitorScopeSelector, 'monitor-scope-selector');
      expect(s.networkServices).to.deep.equal(['icmp-responder']);
      expect(s.pathSegments[0]?.id).to.equal('conn-0');
    });

    it('registry endpoint: labels map of messages and nanosecond timestamps', () => {
      const nse = decoded(api.NetworkServiceEndpoint, 'nse-full');
      expect(nse.networkServiceNames).to.deep.equal(['icmp-responder', 'other']);
      expect(nse.networkServiceLabels['icmp-responder']?.labels).to.deep.equal({ app: 'icmp' });
      expect(nse.expirationTime).to.deep.equal(EXPIRES);
      expect(nse.initialRegistrationTime).to.deep.equal(EXPIRES);
      expect(api.millisFromTimestamp(nse.expirationTime as api.Timestamp)).to.equal(1_767_225_600_000);
      expect(decoded(api.NetworkServiceEndpointQuery, 'nse-query').watch).to.equal(true);
      const deleted = decoded(api.NetworkServiceEndpointResponse, 'nse-response-deleted');
      expect(deleted.deleted).to.equal(true);
      expect(deleted.networkServiceEndpoint?.name).to.equal('icmp-1');
    });

    it('registry network service: matches, routes, weights, fallthrough', () => {
      const ns = decoded(api.NetworkService, 'ns-full');
      expect(ns.payload).to.equal(api.Payload.IP);
      expect(ns.matches[0]?.sourceSelector).to.deep.equal({ app: 'firewall' });
      expect(ns.matches[0]?.routes[0]?.weight).to.equal(10);
      expect(ns.matches[0]?.fallthrough).to.equal(true);
      expect(ns.matches[0]?.metadata?.labels).to.deep.equal({ p2mp: 'true' });
      expect(ns.matches[1]?.fallthrough).to.equal(false);
      expect(decoded(api.NetworkServiceResponse, 'ns-response').networkService).to.deep.equal(ns);
      expect(decoded(api.NetworkServiceQuery, 'ns-query').networkService?.name).to.equal(ns.name);
    });

    it('ipam: the request type enum and the response without field 1', () => {
      const req = decoded(api.PrefixRequest, 'ipam-prefix-request');
      expect(req.type).to.equal(api.IpamType.ALLOCATE);
      expect(req.excludePrefixes).to.deep.equal(['10.0.0.0/30']);
      const res = decoded(api.PrefixResponse, 'ipam-prefix-response');
      expect(res.prefix).to.equal('10.0.0.0/24');
      expect(vector('ipam-prefix-response').hex.startsWith('12')).to.equal(true);
    });
  });
});
