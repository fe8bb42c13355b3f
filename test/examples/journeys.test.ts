/**
 * The user journeys of docs/guides.md, run through the examples' own exported functions against real
 * meshes: a custom passthrough endpoint (examples/firewall-endpoint.ts), a bespoke manager
 * (examples/bespoke-manager.ts) and an app embedding the client (examples/http-app.ts). Each test stops
 * all it started, and the sandbox hooks check that nothing (sockets, servers, timers) is left behind.
 */
import { expect } from 'chai';
import { NetworkService, NetworkServiceEndpoint } from '../../src/api/gen/registry.js';
import { Payload } from '../../src/api/constants.js';
import type { Connection } from '../../src/api/gen/connection.js';
import type { NetworkServiceServer } from '../../src/networkservice/core/types.js';
import { createClient } from '../../src/networkservice/chains/client/client.js';
import { endpointChain } from '../../src/networkservice/chains/endpoint/chain.js';
import { serveEndpoint } from '../../src/networkservice/chains/endpoint/serve.js';
import { serveForwarder } from '../../src/networkservice/chains/forwarder/serve.js';
import { mechanismsServer } from '../../src/networkservice/common/mechanisms/index.js';
import { kernelMechanismPreference, kernelMechanismServer } from '../../src/networkservice/mechanisms/kernel/index.js';
import { point2pointServer } from '../../src/networkservice/ipam/point2point/index.js';
import { createRegistryClient } from '../../src/registry/chains/client/client.js';
import { serveRegistryServer } from '../../src/registry/chains/server/serve.js';
import { LoggingServer, startFirewall } from '../../examples/firewall-endpoint.js';
import { AUDITED_BY_LABEL, startBespokeManager } from '../../examples/bespoke-manager.js';
import { startApp, type ConnectionView } from '../../examples/http-app.js';
import { eventually } from '../helpers/eventually.js';
import { tempSocketDir } from '../helpers/servers.js';
import { sandboxHooks } from '../integration/nsmgr/sandbox.js';
import { mtlsSecurity, type Security } from '../../src/tools/security/index.js';
import { DevTrustDomainSource } from '../../src/tools/spiffe/index.js';
import { trustDomain } from '../helpers/svid.js';

const names = (conn: Connection): string[] => conn.path?.pathSegments.map((s) => s.name) ?? [];

/** Records the labels of every Request that reaches it. */
class LabelRecorder implements NetworkServiceServer {
  readonly name = 'label-recorder';
  readonly seen: Array<{ networkService: string; labels: Record<string, string> }> = [];

  request: NetworkServiceServer['request'] = (request, ctx, next) => {
    this.seen.push({ networkService: request.connection?.networkService ?? '', labels: { ...request.connection?.labels } });
    return next.request(request, ctx);
  };

  close: NetworkServiceServer['close'] = (connection, ctx, next) => next.close(connection, ctx);
}

describe('guide: a custom passthrough endpoint (examples/firewall-endpoint.ts)', function () {
  this.timeout(30_000);
  const sandbox = sandboxHooks();

  it('sits on the path between the client and the icmp-responder, logs one Request and one Close, and unregisters on stop', async function () {
    const domain = await sandbox.start();
    const node = domain.nodes[0]!;
    await domain.registerService({ name: 'secure-intranet-connectivity' });
    await domain.registerService({ name: 'icmp-responder' });
    const responder = await node.addEndpoint({ name: 'icmp-responder', networkServices: ['icmp-responder'] });
    const sockets = tempSocketDir();
    const logging = new LoggingServer();
    const firewall = await startFirewall(
      {
        name: 'firewall',
        listenOn: sockets.socket('firewall'),
        connectTo: node.nsmgr.url,
        serviceNames: ['secure-intranet-connectivity'],
        passthroughTo: 'icmp-responder',
      },
      { logging, ctx: domain.ctx, security: domain.security('nse', 'firewall') },
    );
    let stopped = false;
    try {
      const registered = await domain.admin.findEndpoints({ name: 'firewall' });
      expect(registered.map((e) => e.networkServiceNames)).to.deep.equal([['secure-intranet-connectivity']]);

      const client = node.client({ name: 'nsc' });
      const conn = await client.request({ connection: { networkService: 'secure-intranet-connectivity' } });
      expect(names(conn)).to.deep.equal([
        'nsc',
        'nsmgr-0',
        'forwarder-0-0',
        'firewall',
        'nsmgr-0',
        'forwarder-0-0',
        'icmp-responder',
      ]);
      // The client sees the service it asked for and the endpoint it reached; the rest came from downstream.
      expect(conn.networkService).to.equal('secure-intranet-connectivity');
      expect(conn.networkServiceEndpointName).to.equal('firewall');
      expect(conn.context?.ipContext?.srcIpAddrs).to.have.length(1);
      expect(responder.counter.requests, 'the request went through to the icmp-responder').to.equal(1);
      expect(logging.requests).to.equal(1);
      expect(logging.closes).to.equal(0);
      expect(logging.events[0]).to.include({ event: 'request', networkService: 'secure-intranet-connectivity', from: 'forwarder-0-0' });

      await client.close(conn);
      expect(logging.requests).to.equal(1);
      expect(logging.closes).to.equal(1);
      expect(responder.counter.closes, 'the Close went on to the icmp-responder').to.equal(1);

      await firewall.stop();
      stopped = true;
      expect(await domain.admin.findEndpoints({ name: 'firewall' })).to.deep.equal([]);
      expect(await domain.admin.findEndpoints({ name: 'icmp-responder' }), 'only its own registration went').to.have.length(1);
    } finally {
      if (!stopped) await firewall.stop();
      sockets.cleanup();
    }
  });
});

describe('guide: a bespoke manager (examples/bespoke-manager.ts)', function () {
  this.timeout(30_000);
  // No sandbox domain here (the test builds its own mesh around the bespoke manager): the hooks only check leaks.
  sandboxHooks();

  it('stamps its label on each request (the endpoint sees it) and counts connections per service', async function () {
    const sockets = tempSocketDir();
    // The mesh around it is secured as any: one SVID per role from a CA made for the test.
    const ca = await trustDomain('example.org');
    const sources: DevTrustDomainSource[] = [];
    const as = (role: string, name: string): Security => {
      const source = new DevTrustDomainSource(ca, { spiffeId: `spiffe://example.org/${role}/${name}` });
      sources.push(source);
      return mtlsSecurity(source);
    };
    const registry = await serveRegistryServer('tcp://127.0.0.1:0', { server: { drainTimeoutMs: 500 }, security: as('registry', 'registry') });
    const stops: Array<() => Promise<void>> = [() => registry.stop(), async () => sources.forEach((s) => s.close())];
    try {
      const manager = await startBespokeManager({ name: 'bespoke', listenOn: 'tcp://127.0.0.1:0', registryURL: registry.url }, undefined, as('nsmgr', 'bespoke'));
      stops.unshift(() => manager.stop());
      const forwarder = await serveForwarder(sockets.socket('forwarder'), { name: 'forwarder', connectTo: manager.url, security: as('forwarder', 'forwarder') });
      stops.unshift(() => forwarder.stop());

      // An endpoint offering two services, recording the labels of what reaches it.
      const recorder = new LabelRecorder();
      const lifetime = new AbortController();
      const nseSecurity = as('nse', 'nse');
      const endpoint = await serveEndpoint(
        sockets.socket('nse'),
        endpointChain({
          name: 'nse',
          security: nseSecurity,
          signal: lifetime.signal,
          additionalFunctionality: [recorder, point2pointServer(['10.70.0.0/24']), mechanismsServer({ KERNEL: kernelMechanismServer() })],
        }),
        { security: nseSecurity },
      );
      const nseRegistry = createRegistryClient({ connectTo: manager.url, chain: { security: nseSecurity, name: 'nse' } });
      stops.unshift(async () => {
        await endpoint.stop();
        await nseRegistry.close({ timeoutMs: 2000 });
        lifetime.abort();
      });
      for (const name of ['icmp-responder', 'other']) await nseRegistry.registerService(NetworkService.fromPartial({ name, payload: Payload.IP }));
      await nseRegistry.registerEndpoint(
        NetworkServiceEndpoint.fromPartial({ name: 'nse', url: endpoint.url, networkServiceNames: ['icmp-responder', 'other'] }),
      );

      const client = createClient({ name: 'nsc', connectTo: manager.url, security: as('nsc', 'nsc') });
      stops.unshift(() => client.dispose());
      const kernel = [kernelMechanismPreference('nsm-1')];
      const conn = await client.request({ connection: { networkService: 'icmp-responder' }, mechanismPreferences: kernel });
      expect(names(conn)).to.deep.equal(['nsc', 'bespoke', 'forwarder', 'nse']);
      expect(recorder.seen).to.have.length(1);
      expect(recorder.seen[0]?.labels[AUDITED_BY_LABEL], 'the endpoint sees the label audit stamped').to.equal('bespoke');
      expect(manager.audit.snapshot()).to.deep.equal({ 'icmp-responder': { open: 1, total: 1 } });

      // A refresh is not a new connection.
      await client.request({ connection: conn, mechanismPreferences: kernel });
      expect(recorder.seen).to.have.length(2);
      expect(manager.audit.snapshot()).to.deep.equal({ 'icmp-responder': { open: 1, total: 1 } });

      const other = await client.request({ connection: { networkService: 'other', labels: { app: 'web' } }, mechanismPreferences: kernel });
      expect(recorder.seen[2]?.networkService).to.equal('other');
      expect(recorder.seen[2]?.labels, "the client's labels stay").to.include({ app: 'web', [AUDITED_BY_LABEL]: 'bespoke' });
      expect(other.labels[AUDITED_BY_LABEL], 'and the client gets it back on its connection').to.equal('bespoke');
      expect(manager.audit.snapshot()).to.deep.equal({ 'icmp-responder': { open: 1, total: 1 }, other: { open: 1, total: 1 } });

      await client.close(conn);
      expect(manager.audit.snapshot()).to.deep.equal({ 'icmp-responder': { open: 0, total: 1 }, other: { open: 1, total: 1 } });
      await client.close(other);
      expect(manager.audit.snapshot()).to.deep.equal({ 'icmp-responder': { open: 0, total: 1 }, other: { open: 0, total: 1 } });
    } finally {
      for (const stop of stops) await stop();
      sockets.cleanup();
    }
  });
});

describe('guide: an app embedding the client (examples/http-app.ts)', function () {
  this.timeout(30_000);
  const sandbox = sandboxHooks();

  it('serves the connection it holds, and shows it healed onto another endpoint when its endpoint dies', async function () {
    const domain = await sandbox.start();
    const node = domain.nodes[0]!;
    await domain.registerService({ name: 'icmp-responder' });
    const first = await node.addEndpoint({ name: 'nse-1', networkServices: ['icmp-responder'] });
    const app = await startApp({ connectTo: node.nsmgr.url, networkService: 'icmp-responder', ctx: domain.ctx, client: { security: domain.security('nsc', 'http-app') } });
    try {
      const get = async (path: string): Promise<{ code: number; body: unknown }> => {
        const response = await fetch(`${app.url}${path}`);
        return { code: response.status, body: await response.json() };
      };
      expect(await get('/healthz')).to.deep.equal({ code: 200, body: { status: 'ok' } });
      const before = await get('/connection');
      expect(before.code).to.equal(200);
      const view = before.body as ConnectionView;
      expect(view).to.include({ state: 'UP', endpoint: 'nse-1' });
      expect(view.path).to.deep.equal(['http-app', 'nsmgr-0', 'forwarder-0-0', 'nse-1']);
      expect(view.srcIpAddrs).to.have.length(1);

      await node.addEndpoint({ name: 'nse-2', networkServices: ['icmp-responder'] });
      await first.kill();
      let healed: ConnectionView | undefined;
      await eventually(async () => {
        healed = (await get('/connection')).body as ConnectionView;
        return healed.state === 'UP' && healed.endpoint === 'nse-2';
      }, 10_000);
      expect(healed?.path).to.deep.equal(['http-app', 'nsmgr-0', 'forwarder-0-0', 'nse-2']);
      expect(healed?.srcIpAddrs).to.have.length(1).and.not.deep.equal(view.srcIpAddrs);
      expect((await get('/nowhere')).code).to.equal(404);
    } finally {
      await app.close();
    }
    // Closing the app closed its connection at the endpoint it had healed to.
    expect(domain.endpoints.get('nse-2')?.counter.closes).to.equal(1);
  });
});
