import { expect } from 'chai';
import { firstValueFrom, Observable, of, toArray } from 'rxjs';
import { NetworkServiceEndpoint, type NetworkServiceEndpointQuery } from '../../../src/api/gen/registry.js';
import { ChainContext } from '../../../src/networkservice/core/context.js';
import { raisedBy } from '../../../src/networkservice/core/trace.js';
import { namedRegistryChain, registryChain, toRegistryHandler } from '../../../src/registry/core/chain.js';
import type { FindResult, NSERegistryElement } from '../../../src/registry/core/types.js';
import { NullRegistry } from '../../../src/registry/common/null/index.js';
import { statusError, status } from '../../../src/tools/grpc/status.js';

type NSE = NetworkServiceEndpoint;

class Tag extends NullRegistry<NSE, NetworkServiceEndpointQuery> {
  constructor(
    override readonly name: string,
    private readonly log: string[],
  ) {
    super();
  }
  override register(item: NSE, ctx: ChainContext, next: Parameters<NSERegistryElement['register']>[2]): Promise<NSE> {
    this.log.push(`${this.name}>`);
    return next.register({ ...item, pathIds: [...item.pathIds, this.name] }, ctx).then((r) => {
      this.log.push(`<${this.name}`);
      return r;
    });
  }
}

const ctx = ChainContext.background();
const item = (name: string): NSE => NetworkServiceEndpoint.create({ name });

describe('registry core: chains', function () {
  it('runs elements in order, nests chains, and ends in the tail that returns the item', async function () {
    const log: string[] = [];
    const inner = registryChain<NSE, NetworkServiceEndpointQuery>(new Tag('b', log), new Tag('c', log));
    const outer = registryChain<NSE, NetworkServiceEndpointQuery>(new Tag('a', log), inner, false, undefined, new Tag('d', log));
    const result = await outer.register(item('x'), ctx);
    expect(result.pathIds).to.deep.equal(['a', 'b', 'c', 'd']);
    expect(log).to.deep.equal(['a>', 'b>', 'c>', 'd>', '<d', '<c', '<b', '<a']);
    const found = await firstValueFrom(outer.find({ networkServiceEndpoint: undefined, watch: false }, ctx).pipe(toArray()));
    expect(found).to.deep.equal([]);
  });

  it('tags an error with the element that raised it, once', async function () {
    const failing: NSERegistryElement = {
      name: 'failing',
      register: () => Promise.reject(statusError(status.NOT_FOUND, 'no such thing')),
      find: () => new Observable<FindResult<NSE>>((s) => s.error(new Error('find broke'))),
      unregister: () => Promise.reject(new Error('nope')),
    };
    const c = namedRegistryChain<NSE, NetworkServiceEndpointQuery>('c', [new NullRegistry(), failing]);
    const error = await c.register(item('x'), ctx).catch((e: unknown) => e);
    expect(raisedBy(error)).to.equal('failing');
    expect((error as { code?: number }).code).to.equal(status.NOT_FOUND);
    expect((error as Error).message).to.match(/failing: no such thing/);
    const findError = await firstValueFrom(c.find({ networkServiceEndpoint: undefined, watch: false }, ctx)).catch((e: unknown) => e);
    expect(raisedBy(findError)).to.equal('failing');
    const unregisterError = await c.unregister(item('x'), ctx).catch((e: unknown) => e);
    expect((unregisterError as Error).message).to.match(/failing: nope/);
  });

  it('does no find work before subscription and tears down on unsubscribe', async function () {
    let subscribed = 0;
    let tornDown = 0;
    const source: NSERegistryElement = {
      ...new NullRegistry<NSE, NetworkServiceEndpointQuery>(),
      name: 'source',
      register: (i) => Promise.resolve(i),
      unregister: () => Promise.resolve(),
      find: () =>
        new Observable<FindResult<NSE>>((s) => {
          subscribed++;
          s.next({ item: item('a'), deleted: false });
          return () => {
            tornDown++;
          };
        }),
    };
    const handler = toRegistryHandler(registryChain<NSE, NetworkServiceEndpointQuery>(new NullRegistry(), source));
    const observable = handler.find({ networkServiceEndpoint: undefined, watch: true }, ctx);
    expect(subscribed).to.equal(0);
    const first = await firstValueFrom(observable);
    expect(first.item.name).to.equal('a');
    expect([subscribed, tornDown]).to.deep.equal([1, 1]);
  });

  it('passes find results of later elements through', async function () {
    const source: NSERegistryElement = {
      name: 'source',
      register: (i) => Promise.resolve(i),
      unregister: () => Promise.resolve(),
      find: () => of({ item: item('a'), deleted: false }, { item: item('b'), deleted: true }),
    };
    const results = await firstValueFrom(
      registryChain<NSE, NetworkServiceEndpointQuery>(new NullRegistry(), source).find({ networkServiceEndpoint: undefined, watch: false }, ctx).pipe(toArray()),
    );
    expect(results.map((r) => [r.item.name, r.deleted])).to.deep.equal([
      ['a', false],
      ['b', true],
    ]);
  });
});
