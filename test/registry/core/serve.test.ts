import { expect } from 'chai';
import { firstValueFrom, Observable, toArray } from 'rxjs';
import { NetworkServiceEndpoint, type NetworkServiceEndpointQuery } from '../../../src/api/gen/registry.js';
import { ChainContext } from '../../../src/networkservice/core/context.js';
import { withClientURL } from '../../../src/networkservice/common/clienturl/index.js';
import { registryChain } from '../../../src/registry/core/chain.js';
import { NSE_KIND } from '../../../src/registry/core/kind.js';
import { serveRegistry } from '../../../src/registry/core/serve.js';
import type { FindResult, NSERegistryElement } from '../../../src/registry/core/types.js';
import { connectRegistryClient } from '../../../src/registry/common/connect/index.js';
import { dialRegistry } from '../../../src/registry/common/dial/index.js';
import { registryMetadataClient } from '../../../src/registry/common/metadata/index.js';
import { GrpcServer } from '../../../src/tools/grpc/server.js';
import { statusError, status } from '../../../src/tools/grpc/status.js';
import { tempSocketDir } from '../../helpers/servers.js';
import { eventually } from '../../helpers/eventually.js';

type NSE = NetworkServiceEndpoint;
type Q = NetworkServiceEndpointQuery;

/** A server element whose find is a stream the test drives. */
class Controlled implements NSERegistryElement {
  readonly name = 'controlled';
  emit: ((r: FindResult<NSE>) => void) | undefined;
  fail?: (e: unknown) => void;
  end?: () => void;
  teardowns = 0;
  register(item: NSE): Promise<NSE> {
    if (item.name === 'bad') return Promise.reject(statusError(status.ALREADY_EXISTS, 'bad is taken'));
    return Promise.resolve({ ...item, url: 'tcp://127.0.0.1:7' });
  }
  find(): Observable<FindResult<NSE>> {
    return new Observable((s) => {
      this.emit = (r) => s.next(r);
      this.fail = (e) => s.error(e);
      this.end = () => s.complete();
      return () => this.teardowns++;
    });
  }
  unregister(): Promise<void> {
    return Promise.resolve();
  }
}

describe('registry core: serving', function () {
  let sockets: ReturnType<typeof tempSocketDir>;
  let server: GrpcServer;
  let element: Controlled;
  let ctx: ChainContext;
  const client = registryChain<NSE, Q>(registryMetadataClient(NSE_KIND), dialRegistry(), connectRegistryClient(NSE_KIND));
  const watchAll = { networkServiceEndpoint: undefined, watch: true };

  beforeEach(async () => {
    sockets = tempSocketDir();
    element = new Controlled();
    server = new GrpcServer({ drainTimeoutMs: 500 });
    serveRegistry(server, NSE_KIND, element);
    await server.listen(sockets.socket('registry'));
    ctx = withClientURL(ChainContext.background(), server.url);
  });
  afterEach(async () => {
    await server.stop();
    sockets.cleanup();
  });

  it('answers Register and carries errors as gRPC statuses', async function () {
    const registered = await client.register(NetworkServiceEndpoint.create({ name: 'ok' }), ctx);
    expect(registered.url).to.equal('tcp://127.0.0.1:7');
    const error = await client.register(NetworkServiceEndpoint.create({ name: 'bad' }), ctx).catch((e: unknown) => e);
    expect(error).to.have.property('code', status.ALREADY_EXISTS);
    expect((error as Error).message).to.match(/bad is taken/);
  });

  it('streams find results, ends the stream when the chain completes, and errors with the status', async function () {
    const collected = firstValueFrom(client.find(watchAll, ctx).pipe(toArray()));
    await eventually(() => element.emit !== undefined);
    element.emit?.({ item: NetworkServiceEndpoint.create({ name: 'a' }), deleted: false });
    element.emit?.({ item: NetworkServiceEndpoint.create({ name: 'a' }), deleted: true });
    element.end?.();
    expect((await collected).map((r) => [r.item.name, r.deleted])).to.deep.equal([
      ['a', false],
      ['a', true],
    ]);

    element.emit = undefined;
    const failed = firstValueFrom(client.find(watchAll, ctx)).catch((e: unknown) => e);
    await eventually(() => element.fail !== undefined && element.emit !== undefined);
    element.fail?.(statusError(status.RESOURCE_EXHAUSTED, 'too many watches'));
    const error = await failed;
    expect(error).to.have.property('code', status.RESOURCE_EXHAUSTED);
  });

  it('a client that unsubscribes cancels the call, and the server unsubscribes the chain', async function () {
    const subscription = client.find(watchAll, ctx).subscribe();
    await eventually(() => element.emit !== undefined);
    expect(element.teardowns).to.equal(0);
    subscription.unsubscribe();
    await eventually(() => element.teardowns === 1);
  });

  it('stopping the server ends open finds on both sides', async function () {
    let completed = false;
    client.find(watchAll, ctx).subscribe({ complete: () => (completed = true), error: () => (completed = true) });
    await eventually(() => element.emit !== undefined);
    await server.stop();
    await eventually(() => completed && element.teardowns === 1);
  });
});
