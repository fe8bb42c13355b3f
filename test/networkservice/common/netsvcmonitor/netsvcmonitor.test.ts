import { expect } from 'chai';
import { Observable, of, Subject } from 'rxjs';
import { NetworkServiceRequest } from '../../../../src/api/gen/networkservice.js';
import {
  NetworkService,
  NetworkServiceEndpoint,
  type NetworkServiceEndpointQuery,
  type NetworkServiceQuery,
} from '../../../../src/api/gen/registry.js';
import { chain } from '../../../../src/networkservice/core/chain.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { beginServer } from '../../../../src/networkservice/common/begin/index.js';
import { netsvcMonitorServer, type NetsvcMonitorServer } from '../../../../src/networkservice/common/netsvcmonitor/index.js';
import type { FindResult, NSERegistryHandler, NSRegistryHandler } from '../../../../src/registry/core/types.js';
import { FakeNext, tick } from '../../../helpers/fake-next.js';
import { eventually } from '../../../helpers/eventually.js';

const SERVICE = 'svc';

/** A service sending clients labelled app=web to endpoints whose label `color` is `color`. */
function service(color: string): NetworkService {
  return NetworkService.fromPartial({
    name: SERVICE,
    matches: [{ sourceSelector: { app: 'web' }, routes: [{ destinationSelector: { color } }] }],
  });
}

const ENDPOINT = NetworkServiceEndpoint.fromPartial({
  name: 'nse-1',
  networkServiceNames: [SERVICE],
  networkServiceLabels: { [SERVICE]: { labels: { color: 'red' } } },
});

/** A NetworkService registry whose watches replay the current service and then whatever `changes` sends. */
class FakeNSRegistry implements NSRegistryHandler {
  private changes = new Subject<FindResult<NetworkService>>();
  readonly queries: { query: NetworkServiceQuery; ctx: ChainContext }[] = [];
  active = 0;

  constructor(public current: NetworkService) {}

  register(item: NetworkService): Promise<NetworkService> {
    return Promise.resolve(item);
  }

  unregister(): Promise<void> {
    return Promise.resolve();
  }

  find(query: NetworkServiceQuery, ctx: ChainContext): Observable<FindResult<NetworkService>> {
    this.queries.push({ query, ctx });
    return new Observable<FindResult<NetworkService>>((subscriber) => {
      this.active++;
      subscriber.next({ item: this.current, deleted: false });
      const inner = this.changes.subscribe(subscriber);
      return () => {
        this.active--;
        inner.unsubscribe();
      };
    });
  }

  /** Breaks the open watches; later watches work again. */
  fail(error: Error): void {
    const broken = this.changes;
    this.changes = new Subject<FindResult<NetworkService>>();
    broken.error(error);
  }

  update(ns: NetworkService, deleted = false): void {
    if (!deleted) this.current = ns;
    this.changes.next({ item: ns, deleted });
  }
}

/** An endpoint registry that answers finds by name from a fixed list. */
class FakeNSERegistry implements NSERegistryHandler {
  readonly queries: NetworkServiceEndpointQuery[] = [];

  constructor(readonly endpoints: NetworkServiceEndpoint[]) {}

  register(item: NetworkServiceEndpoint): Promise<NetworkServiceEndpoint> {
    return Promise.resolve(item);
  }

  unregister(): Promise<void> {
    return Promise.resolve();
  }

  find(query: NetworkServiceEndpointQuery): Observable<FindResult<NetworkServiceEndpoint>> {
    this.queries.push(query);
    const name = query.networkServiceEndpoint?.name ?? '';
    return of(...this.endpoints.filter((e) => name === '' || e.name === name).map((item) => ({ item, deleted: false })));
  }
}

function request(id = 'conn-1'): NetworkServiceRequest {
  return NetworkServiceRequest.fromPartial({
    connection: { id, networkService: SERVICE, networkServiceEndpointName: 'nse-1', labels: { app: 'web' } },
  });
}

interface Setup {
  monitor: NetsvcMonitorServer;
  nsRegistry: FakeNSRegistry;
  nseRegistry: FakeNSERegistry;
  next: FakeNext;
  handler: ReturnType<typeof chain>;
}

function setup(): Setup {
  const nsRegistry = new FakeNSRegistry(service('red'));
  const nseRegistry = new FakeNSERegistry([ENDPOINT]);
  const monitor = netsvcMonitorServer({ nsRegistry, nseRegistry });
  return { monitor, nsRegistry, nseRegistry, next: new FakeNext(), handler: chain(beginServer(), monitor) };
}

describe('netsvcmonitor', () => {
  it('watches the connection’s service once, in a context that outlives the request', async () => {
    const { monitor, nsRegistry, next, handler } = setup();
    const [ctx, cancel] = ChainContext.background().withCancel();
    const conn = await handler.request(request(), ctx, next);
    cancel();
    await handler.request(NetworkServiceRequest.fromPartial({ connection: conn }), ChainContext.background(), next);
    expect(nsRegistry.queries).to.have.length(1);
    const first = nsRegistry.queries[0];
    expect(first?.query.watch).to.equal(true);
    expect(first?.query.networkService?.name).to.equal(SERVICE);
    expect(first?.ctx.signal.aborted).to.equal(false);
    expect(monitor.size).to.equal(1);
    expect(nsRegistry.active).to.equal(1);
  });

  it('closes the connection once when the service stops selecting its endpoint', async () => {
    const { monitor, nsRegistry, next, handler } = setup();
    await handler.request(request(), ChainContext.background(), next);
    await tick();
    expect(next.closes).to.have.length(0);
    nsRegistry.update(service('blue'));
    nsRegistry.update(service('green'));
    await eventually(() => next.closes.length > 0);
    await tick(20);
    expect(next.closes).to.have.length(1);
    expect(next.closes[0]?.connection.id).to.equal('conn-1');
    expect(monitor.size).to.equal(0);
    expect(nsRegistry.active).to.equal(0);
    expect(nsRegistry.queries[0]?.ctx.signal.aborted).to.equal(true);
  });

  it('keeps the connection when a change still selects its endpoint, or deletes the service', async () => {
    const { monitor, nsRegistry, nseRegistry, next, handler } = setup();
    await handler.request(request(), ChainContext.background(), next);
    nsRegistry.update(
      NetworkService.fromPartial({
        name: SERVICE,
        matches: [
          { sourceSelector: { app: 'db' }, routes: [{ destinationSelector: { color: 'blue' } }] },
          { sourceSelector: { app: 'web' }, routes: [{ destinationSelector: { color: 'red' } }] },
        ],
      }),
    );
    nsRegistry.update(service('blue'), true);
    await eventually(() => nseRegistry.queries.length >= 2);
    await tick(20);
    expect(next.closes).to.have.length(0);
    expect(monitor.size).to.equal(1);
    // The deleted service was not checked at all: one look-up for the snapshot, one for the change.
    expect(nseRegistry.queries).to.have.length(2);
    expect(nseRegistry.queries[0]?.networkServiceEndpoint?.name).to.equal('nse-1');
    expect(nseRegistry.queries[0]?.watch).to.equal(false);
  });

  it('stops the watch on Close', async () => {
    const { monitor, nsRegistry, next, handler } = setup();
    const conn = await handler.request(request(), ChainContext.background(), next);
    await handler.close(conn, ChainContext.background(), next);
    expect(monitor.size).to.equal(0);
    expect(nsRegistry.active).to.equal(0);
    expect(nsRegistry.queries[0]?.ctx.signal.aborted).to.equal(true);
    nsRegistry.update(service('blue'));
    await tick(20);
    expect(next.closes).to.have.length(1);
  });

  it('watches nothing for a failed first request', async () => {
    const { monitor, nsRegistry, next, handler } = setup();
    next.onRequest = () => Promise.reject(new Error('no endpoint'));
    await handler.request(request(), ChainContext.background(), next).catch(() => undefined);
    expect(monitor.size).to.equal(0);
    expect(nsRegistry.queries).to.have.length(0);
  });

  it('forgets a watch that fails, so a refresh starts another', async () => {
    const { monitor, nsRegistry, next, handler } = setup();
    const conn = await handler.request(request(), ChainContext.background(), next);
    nsRegistry.fail(new Error('registry gone'));
    expect(monitor.size).to.equal(0);
    expect(nsRegistry.active).to.equal(0);
    await handler.request(NetworkServiceRequest.fromPartial({ connection: conn }), ChainContext.background(), next);
    expect(nsRegistry.queries).to.have.length(2);
    expect(monitor.size).to.equal(1);
  });
});
