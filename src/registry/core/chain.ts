/**
 * Registry chains: an element made of elements, nesting like Network Service chains. Each element call
 * runs in a span (`<element>/Register`, `/Find`, `/Unregister`; a find's span lasts from subscription to
 * completion, error or unsubscription), and an error leaving an element is tagged with its name.
 * @module
 */
import { Observable } from 'rxjs';
import type { ChainContext } from '../../networkservice/core/context.js';
import { elementName } from '../../networkservice/core/chain.js';
import { attributeError, finish, inSpan, tracer } from '../../networkservice/core/trace.js';
import { registryTail } from './tail.js';
import type { FindResult, RegistryElement, RegistryHandler } from './types.js';

async function traced<T>(label: string, call: () => Promise<T>): Promise<T> {
  const span = tracer.startSpan(label);
  try {
    const result = await inSpan(span, call);
    finish(span);
    return result;
  } catch (error) {
    finish(span, error);
    throw error;
  }
}

class Link<R, Q> implements RegistryHandler<R, Q> {
  constructor(
    private readonly element: RegistryElement<R, Q>,
    private readonly label: string,
    private readonly next: RegistryHandler<R, Q>,
  ) {}

  async register(item: R, ctx: ChainContext): Promise<R> {
    try {
      return await traced(`${this.label}/Register`, () => this.element.register(item, ctx, this.next));
    } catch (error) {
      throw attributeError(error, this.label);
    }
  }

  find(query: Q, ctx: ChainContext): Observable<FindResult<R>> {
    return new Observable<FindResult<R>>((subscriber) => {
      const span = tracer.startSpan(`${this.label}/Find`);
      let source: Observable<FindResult<R>>;
      try {
        source = this.element.find(query, ctx, this.next);
      } catch (error) {
        finish(span, error);
        subscriber.error(attributeError(error, this.label));
        return undefined;
      }
      const subscription = source.subscribe({
        next: (result) => subscriber.next(result),
        error: (error: unknown) => {
          finish(span, error);
          subscriber.error(attributeError(error, this.label));
        },
        complete: () => {
          finish(span);
          subscriber.complete();
        },
      });
      return () => {
        if (span.isRecording()) finish(span);
        subscription.unsubscribe();
      };
    });
  }

  async unregister(item: R, ctx: ChainContext): Promise<void> {
    try {
      await traced(`${this.label}/Unregister`, () => this.element.unregister(item, ctx, this.next));
    } catch (error) {
      throw attributeError(error, this.label);
    }
  }
}

/** A registry chain: an element whose `next` may be left out, to end in the {@link registryTail}. */
export interface RegistryChain<R, Q> extends RegistryElement<R, Q> {
  register(item: R, ctx: ChainContext, next?: RegistryHandler<R, Q>): Promise<R>;
  find(query: Q, ctx: ChainContext, next?: RegistryHandler<R, Q>): Observable<FindResult<R>>;
  unregister(item: R, ctx: ChainContext, next?: RegistryHandler<R, Q>): Promise<void>;
}

class Chain<R, Q> implements RegistryChain<R, Q> {
  private readonly heads = new WeakMap<RegistryHandler<R, Q>, RegistryHandler<R, Q>>();
  private readonly labels: readonly string[];

  constructor(
    readonly name: string,
    private readonly elements: readonly RegistryElement<R, Q>[],
  ) {
    this.labels = elements.map(elementName);
  }

  private head(next: RegistryHandler<R, Q>): RegistryHandler<R, Q> {
    let head = this.heads.get(next);
    if (head === undefined) {
      head = next;
      for (let i = this.elements.length - 1; i >= 0; i--) {
        head = new Link(this.elements[i] as RegistryElement<R, Q>, this.labels[i] as string, head);
      }
      this.heads.set(next, head);
    }
    return head;
  }

  register(item: R, ctx: ChainContext, next: RegistryHandler<R, Q> = registryTail()): Promise<R> {
    return this.head(next).register(item, ctx);
  }

  find(query: Q, ctx: ChainContext, next: RegistryHandler<R, Q> = registryTail()): Observable<FindResult<R>> {
    return this.head(next).find(query, ctx);
  }

  unregister(item: R, ctx: ChainContext, next: RegistryHandler<R, Q> = registryTail()): Promise<void> {
    return this.head(next).unregister(item, ctx);
  }
}

/** The elements of a registry chain; falsy entries are skipped. */
export type RegistryElementList<R, Q> = readonly (RegistryElement<R, Q> | undefined | null | false)[];

/** Composes registry elements into one; falsy entries are skipped so optional elements read naturally. */
export function registryChain<R, Q>(...elements: RegistryElementList<R, Q>): RegistryChain<R, Q> {
  return namedRegistryChain('registryChain', elements);
}

/** Like {@link registryChain}, with a name for spans and error messages. */
export function namedRegistryChain<R, Q>(name: string, elements: RegistryElementList<R, Q>): RegistryChain<R, Q> {
  return new Chain(
    name,
    elements.filter((e): e is RegistryElement<R, Q> => e !== undefined && e !== null && e !== false),
  );
}

/** Binds a registry element to a `next` (the tail by default), giving a handler to call directly. */
export function toRegistryHandler<R, Q>(
  element: RegistryElement<R, Q>,
  next: RegistryHandler<R, Q> = registryTail(),
): RegistryHandler<R, Q> {
  return {
    register: (item, ctx) => element.register(item, ctx, next),
    find: (query, ctx) => element.find(query, ctx, next),
    unregister: (item, ctx) => element.unregister(item, ctx, next),
  };
}
