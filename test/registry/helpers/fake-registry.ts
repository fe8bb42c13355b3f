import { EMPTY, type Observable } from 'rxjs';
import { NetworkServiceEndpoint, type NetworkServiceEndpointQuery } from '../../../src/api/gen/registry.js';
import type { ChainContext } from '../../../src/networkservice/core/context.js';
import type { FindResult, NSERegistryHandler } from '../../../src/registry/core/types.js';

/** A registry `next` that records calls, can fail the next N calls, and answers with a transform. */
export class FakeRegistryNext implements NSERegistryHandler {
  readonly registered: NetworkServiceEndpoint[] = [];
  readonly unregistered: NetworkServiceEndpoint[] = [];
  readonly contexts: ChainContext[] = [];
  failures = 0;
  failWith: Error = new Error('injected failure');
  answer: (item: NetworkServiceEndpoint) => NetworkServiceEndpoint = (item) => item;
  hold: Promise<void> | undefined;

  async register(item: NetworkServiceEndpoint, ctx: ChainContext): Promise<NetworkServiceEndpoint> {
    this.registered.push(NetworkServiceEndpoint.fromPartial(item));
    this.contexts.push(ctx);
    if (this.hold !== undefined) await this.hold;
    if (this.failures > 0) {
      this.failures--;
      throw this.failWith;
    }
    return this.answer(NetworkServiceEndpoint.fromPartial(item));
  }

  find(_query: NetworkServiceEndpointQuery): Observable<FindResult<NetworkServiceEndpoint>> {
    return EMPTY;
  }

  async unregister(item: NetworkServiceEndpoint, ctx: ChainContext): Promise<void> {
    this.unregistered.push(NetworkServiceEndpoint.fromPartial(item));
    this.contexts.push(ctx);
    if (this.failures > 0) {
      this.failures--;
      throw this.failWith;
    }
  }
}

/** An NSE with a name and a URL. */
export const nse = (name: string, extra: Partial<NetworkServiceEndpoint> = {}): NetworkServiceEndpoint =>
  NetworkServiceEndpoint.fromPartial({ name, url: 'tcp://127.0.0.1:1', networkServiceNames: ['svc'], ...extra });

/** Waits until `predicate` holds (real time, up to `ms`). */
export { eventually as until } from '../../helpers/eventually.js';
