/**
 * The Network Service roles under fuzz: a standalone endpoint (endpointChain + point2point IPAM + kernel
 * mechanism, as the sandbox builds them), and the manager and forwarder of a sandbox domain. Each holds
 * live connections made by real clients before the fuzz starts; its snapshot is what those connections
 * look like from every role on their path, and its health check is a real client's request.
 */
import type { ChannelCredentials } from '@grpc/grpc-js';
import { ConnectionEvent, type Connection } from '../../src/api/gen/connection.js';
import { createClient, type NsmClient } from '../../src/networkservice/chains/client/client.js';
import { endpointChain } from '../../src/networkservice/chains/endpoint/chain.js';
import { serveEndpoint, type ServedEndpoint } from '../../src/networkservice/chains/endpoint/serve.js';
import { mechanismsServer } from '../../src/networkservice/common/mechanisms/index.js';
import { point2pointServer, type PointToPointServer } from '../../src/networkservice/ipam/point2point/index.js';
import { kernelMechanismClient, kernelMechanismServer } from '../../src/networkservice/mechanisms/kernel/index.js';
import { grpcTarget, parseAddress } from '../../src/tools/grpc/address.js';
import { status, NsmStatusError } from '../../src/tools/grpc/status.js';
import { createDomain, testTokenGenerator, type Domain } from '../../src/tools/sandbox/index.js';
import { tempSocketDir } from '../helpers/servers.js';
import type { Known } from './arbitraries.js';
import { Caller, type FuzzTarget } from './harness.js';
import { segmentKey, type RoleUnderFuzz } from './rpcs.js';

/** A Network Service role under fuzz. */
export interface NetworkServiceTarget extends FuzzTarget {
  /** What it holds, for the arbitraries. */
  readonly known: Known;
  /** Its segment name and the live segments from it on. */
  readonly role: RoleUnderFuzz;
}

/** What a connection looks like for the state comparison: no tokens, no expiries (refresh changes them). */
function summary(conn: Connection): unknown {
  const ip = conn.context?.ipContext;
  return {
    id: conn.id,
    service: conn.networkService,
    endpoint: conn.networkServiceEndpointName,
    mechanism: conn.mechanism?.type,
    state: conn.state,
    path: conn.path?.pathSegments.map((s) => `${s.name}/${s.id}`),
    src: ip?.srcIpAddrs,
    dst: ip?.dstIpAddrs,
  };
}

function sortedSummaries(connections: Iterable<[string, Connection]>): unknown[] {
  return [...connections].sort(([a], [b]) => a.localeCompare(b)).map(([key, conn]) => [key, summary(conn)]);
}

/** The connections a role's MonitorConnections reports in its initial state transfer. */
async function monitorSnapshot(url: string, channelCredentials?: ChannelCredentials): Promise<unknown[]> {
  const caller = new Caller(grpcTarget(parseAddress(url)), channelCredentials);
  try {
    const result = await caller.stream(`/connection.MonitorConnection/MonitorConnections`, { bytes: new Uint8Array(), metadata: [] }, 10_000, { firstOnly: true, graceMs: 0 });
    const first = result.messages[0];
    if (first === undefined) throw new Error(`no initial state from ${url}: code ${result.code} ${result.details}`);
    return sortedSummaries(Object.entries(ConnectionEvent.decode(first).connections));
  } finally {
    caller.close();
  }
}

function liveSegments(paths: readonly Connection[], from: number): Set<string> {
  return new Set(paths.flatMap((c) => (c.path?.pathSegments ?? []).slice(from).map(segmentKey)));
}

function knownOf(conns: readonly Connection[], services: readonly string[]): Known {
  const segments = conns.flatMap((c) => c.path?.pathSegments ?? []);
  return {
    names: [...new Set(segments.map((s) => s.name))],
    ids: [...new Set([...segments.map((s) => s.id), ...conns.map((c) => c.id)])],
    paths: conns.map((c) => c.path?.pathSegments ?? []),
    services,
  };
}

/** Throws unless `conn` still has the addresses it had. */
function expectSameAddresses(conn: Connection, original: Connection, who: string): void {
  const a = JSON.stringify([conn.context?.ipContext?.srcIpAddrs, conn.context?.ipContext?.dstIpAddrs]);
  const b = JSON.stringify([original.context?.ipContext?.srcIpAddrs, original.context?.ipContext?.dstIpAddrs]);
  if (a !== b) throw new Error(`${who}: the live connection's addresses changed from ${b} to ${a}`);
}

/** The endpoint's IPAM prefix: 14 host addresses, 7 pairs, so a leak or a double release shows at once. */
const ENDPOINT_CIDR = '10.99.0.0/28';
const ENDPOINT_PAIRS = 7;

/** A standalone endpoint with two live connections; `stop` ends everything. */
export async function endpointTarget(): Promise<NetworkServiceTarget & { stop(): Promise<void> }> {
  const sockets = tempSocketDir();
  const lifetime = new AbortController();
  const ipam: PointToPointServer = point2pointServer(ENDPOINT_CIDR);
  const chain = endpointChain({
    name: 'nse-fuzz',
    tokenGenerator: testTokenGenerator('nse-fuzz'),
    additionalFunctionality: [mechanismsServer({ KERNEL: kernelMechanismServer() }), ipam],
    signal: lifetime.signal,
  });
  const served: ServedEndpoint = await serveEndpoint(sockets.socket('nse-fuzz'), chain, { drainTimeoutMs: 500 });
  const clients: NsmClient[] = [];
  const client = (name: string): NsmClient => {
    const c = createClient({ name, connectTo: served.url, tokenGenerator: testTokenGenerator(name), heal: false, refresh: false, additionalFunctionality: [kernelMechanismClient()] });
    clients.push(c);
    return c;
  };
  const live = client('nsc-live');
  const liveConn = await live.request({ connection: { networkService: 'svc' } });
  const otherConn = await client('nsc-other').request({ connection: { networkService: 'svc' } });
  const probe = client('nsc-probe');

  return {
    name: 'endpoint',
    address: grpcTarget(parseAddress(served.url)),
    known: knownOf([liveConn, otherConn], ['svc']),
    role: { label: 'endpoint', segmentName: 'nse-fuzz', liveSegments: liveSegments([liveConn, otherConn], 1) },
    snapshot: async () => ({
      monitor: await monitorSnapshot(served.url),
      held: sortedSummaries(served.connections),
      'ipam connections': ipam.size,
    }),
    healthy: async () => {
      expectSameAddresses(await live.request({ connection: liveConn }), liveConn, 'endpoint');
      // The pool must have exactly the pairs the two live connections leave: no leak, no double release.
      const probes: Connection[] = [];
      try {
        for (let i = 0; i < ENDPOINT_PAIRS - 2; i++) probes.push(await probe.request({ connection: { networkService: 'svc' } }));
        const extra = await probe.request({ connection: { networkService: 'svc' } }).then(
          (conn) => (probes.push(conn), 'granted'),
          (error: unknown) => (error instanceof NsmStatusError && error.code === status.RESOURCE_EXHAUSTED ? 'exhausted' : String(error)),
        );
        if (extra !== 'exhausted') throw new Error(`the pool should hold ${ENDPOINT_PAIRS - 2} free pairs; one more request was ${extra}`);
      } finally {
        for (const conn of probes) await probe.close(conn);
      }
    },
    stop: async () => {
      for (const c of clients) await c.dispose({ timeoutMs: 2000 });
      await served.stop();
      lifetime.abort();
      sockets.cleanup();
    },
  };
}

/** A sandbox domain (registry, manager, forwarder, endpoint) with two live connections through it. */
export async function domainTargets(): Promise<{ nsmgr: NetworkServiceTarget; forwarder: NetworkServiceTarget; stop(): Promise<void> }> {
  // Discovery of a service that is not there gives up quickly: most fuzz cases name one.
  const domain: Domain = await createDomain({ nodes: 1, discoverWaitMs: 100 });
  await domain.registerService({ name: 'svc' });
  const node = domain.nodes[0];
  if (node === undefined) throw new Error('the domain has no node');
  const nse = await node.addEndpoint({ name: 'nse-1', networkServices: ['svc'] });
  const client = (name: string): NsmClient => node.client({ name, heal: false, refresh: false });
  const live = client('nsc-live');
  const liveConn = await live.request({ connection: { networkService: 'svc' } });
  const otherConn = await client('nsc-other').request({ connection: { networkService: 'svc' } });
  const probe = client('nsc-probe');
  const forwarder = node.forwarders[0];
  if (forwarder === undefined) throw new Error('the domain has no forwarder');

  // The monitors show a caller its own connections only: the snapshot watches as the manager, which is on
  // every path. The fuzz itself calls as another workload of the trust domain, which owns nothing.
  const watcher = domain.security('nsmgr', node.nsmgr.name);
  const fuzzer = domain.security('nsc', 'fuzzer');
  const snapshot = async (): Promise<Record<string, unknown>> => ({
    'nsmgr monitor': await monitorSnapshot(node.nsmgr.url, watcher.channelCredentials()),
    'forwarder monitor': await monitorSnapshot(forwarder.url, watcher.channelCredentials()),
    'endpoint monitor': await monitorSnapshot(nse.url, watcher.channelCredentials()),
    'nsmgr held': sortedSummaries(node.nsmgr.binding.held),
    'forwarder held': sortedSummaries(forwarder.binding.held),
    'endpoint held': sortedSummaries(nse.served()?.connections ?? new Map()),
  });
  const healthy = async (): Promise<void> => {
    expectSameAddresses(await live.request({ connection: liveConn }), liveConn, 'domain');
    const conn = await probe.request({ connection: { networkService: 'svc' } });
    if ((conn.context?.ipContext?.srcIpAddrs.length ?? 0) === 0) throw new Error('a new connection got no address');
    await probe.close(conn);
  };
  const known = knownOf([liveConn, otherConn], ['svc', 'nse-1']);
  const common = { known, snapshot, healthy, credentials: () => fuzzer.channelCredentials() };
  return {
    nsmgr: {
      ...common,
      name: 'nsmgr',
      address: grpcTarget(parseAddress(node.nsmgr.url)),
      role: { label: 'nsmgr', segmentName: node.nsmgr.name, liveSegments: liveSegments([liveConn, otherConn], 1) },
    },
    forwarder: {
      ...common,
      name: 'forwarder',
      address: grpcTarget(parseAddress(forwarder.url)),
      role: { label: 'forwarder', segmentName: forwarder.name, liveSegments: liveSegments([liveConn, otherConn], 2) },
    },
    stop: () => domain.stop(),
  };
}
