/**
 * The etcd store: registry items in an etcd v3 cluster, so several registry processes (on several machines)
 * share one registry, and a watch through one sees what was registered through another. Items are kept as
 * protobuf bytes under `<prefix><name>`.
 *
 * A watch reads the current items at one revision and then watches from the next revision with the
 * previous values of deleted keys, so nothing is missed or repeated between the two. When the connection
 * to etcd breaks, open watches error (with UNAVAILABLE) instead of silently waiting: the registry's Find
 * streams end, and watching clients reconnect and re-read.
 * @module
 */
import { Etcd3, type IOptions, type Namespace } from 'etcd3';
import { Observable } from 'rxjs';
import { statusError, status, errorMessage } from '../../../tools/grpc/status.js';
import type { RegistryStore, StoreEvent, StoreQuery } from '../store/types.js';

/** How the store names, encodes and decodes items. */
export interface EtcdCodec<R> {
  nameOf(item: R): string;
  encode(item: R): Uint8Array;
  decode(bytes: Uint8Array): R;
}

/** Options of an {@link EtcdStore}. */
export interface EtcdStoreOptions {
  /** The key prefix, e.g. `/nsm/registry/nse/`; different registries (or resources) use different ones. */
  readonly prefix: string;
}

/** A {@link RegistryStore} in etcd. */
export class EtcdStore<R> implements RegistryStore<R> {
  readonly description: string;
  private readonly ns: Namespace;
  private readonly open = new Set<() => void>();

  /**
   * @param client - the etcd client; closed by {@link EtcdStore.close} only when `owned`.
   * @param codec - how items are named and encoded.
   * @param options - the key prefix.
   * @param owned - whether this store owns (and closes) the client.
   * @param where - a description of the cluster for messages.
   */
  constructor(
    private readonly client: Etcd3,
    private readonly codec: EtcdCodec<R>,
    private readonly options: EtcdStoreOptions,
    private readonly owned = false,
    where = 'shared client',
  ) {
    this.ns = client.namespace(options.prefix);
    this.description = `etcd(${where})${options.prefix}`;
  }

  /** Watches open now (for leak checks). */
  get watchers(): number {
    return this.open.size;
  }

  private fail(operation: string, error: unknown): Error {
    return statusError(status.UNAVAILABLE, `${this.description} ${operation}: ${errorMessage(error)}`, { cause: error });
  }

  private decode(value: Uint8Array | undefined | null, operation: string): R {
    if (value === undefined || value === null) throw statusError(status.INTERNAL, `${this.description} ${operation}: no value`);
    return this.codec.decode(new Uint8Array(value));
  }

  async put(item: R): Promise<void> {
    const name = this.codec.nameOf(item);
    try {
      await this.ns.put(name).value(Buffer.from(this.codec.encode(item)));
    } catch (error) {
      throw this.fail(`put ${name}`, error);
    }
  }

  async delete(name: string): Promise<R | undefined> {
    let previous;
    try {
      previous = await this.ns.delete().key(name).getPrevious();
    } catch (error) {
      throw this.fail(`delete ${name}`, error);
    }
    const kv = previous[0];
    return kv === undefined ? undefined : this.decode(kv.value, `delete ${name}`);
  }

  async get(name: string): Promise<R | undefined> {
    let value;
    try {
      value = await this.ns.get(name).buffer();
    } catch (error) {
      throw this.fail(`get ${name}`, error);
    }
    return value === null ? undefined : this.decode(value, `get ${name}`);
  }

  private async snapshot(name: string | undefined): Promise<{ items: R[]; revision: bigint }> {
    let response;
    try {
      response = await (name === undefined ? this.ns.getAll() : this.ns.get(name)).exec();
    } catch (error) {
      throw this.fail('list', error);
    }
    return {
      items: response.kvs.map((kv) => this.decode(kv.value, 'list')),
      revision: BigInt(response.header.revision),
    };
  }

  async list(query: StoreQuery<R> = {}): Promise<R[]> {
    const match = query.match ?? (() => true);
    return (await this.snapshot(query.name)).items.filter(match);
  }

  watch(query: StoreQuery<R> = {}): Observable<StoreEvent<R>> {
    const match = query.match ?? (() => true);
    return new Observable<StoreEvent<R>>((subscriber) => {
      let stopped = false;
      let cancelWatcher: (() => void) | undefined;
      const stop = (): void => {
        stopped = true;
        this.open.delete(stop);
        cancelWatcher?.();
      };
      this.open.add(stop);
      const emit = (item: R, deleted: boolean): void => {
        if (match(item)) subscriber.next({ item, deleted });
      };
      const fail = (error: unknown): void => {
        if (stopped) return;
        stop();
        subscriber.error(this.fail('watch', error));
      };
      void (async () => {
        const { items, revision } = await this.snapshot(query.name);
        if (stopped) return;
        const builder = this.ns.watch();
        // The watcher object exists at once (etcd3's create() would hide it until connected): whatever
        // happens next it can be cancelled, so none is left in etcd3's reconnect loop after the store closes.
        const watcher = (query.name === undefined ? builder.prefix('') : builder.key(query.name))
          .withPreviousKV()
          .startRevision((revision + 1n).toString())
          .watcher();
        cancelWatcher = () => void watcher.cancel().catch(() => undefined);
        if (stopped) {
          cancelWatcher();
          return;
        }
        // etcd3 waits for a connection to create a watcher, reconnecting forever: bound it, so a watch that
        // starts while etcd is going away errors instead of hanging.
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve, reject) => {
          timer = setTimeout(() => reject(new Error('no watch within 5000 ms')), 5000);
          watcher.once('connected', () => resolve());
          watcher.once('error', (error: unknown) => reject(error instanceof Error ? error : new Error(String(error))));
        }).finally(() => clearTimeout(timer));
        if (stopped) return;
        for (const item of items) emit(item, false);
        // A value that does not decode is the store's failure, not a crash of the process.
        const guarded = (handle: () => void): void => {
          try {
            handle();
          } catch (error) {
            fail(error);
          }
        };
        watcher.on('put', (kv) => guarded(() => emit(this.decode(kv.value, 'watch'), false)));
        watcher.on('delete', (_kv, previous) =>
          guarded(() => {
            // The previous value says what was deleted; without it (compacted away) there is nothing to report.
            if (previous !== undefined && previous !== null) emit(this.decode(previous.value, 'watch'), true);
          }),
        );
        watcher.on('disconnected', (error) => fail(error));
        watcher.on('error', (error) => fail(error));
        watcher.on('end', () => {
          if (!stopped) fail(new Error('the watch ended'));
        });
      })().catch(fail);
      return stop;
    });
  }

  async close(): Promise<void> {
    for (const stop of [...this.open]) stop();
    if (this.owned) this.client.close();
    return Promise.resolve();
  }
}

/** Options of {@link createEtcdStore}. */
export interface CreateEtcdStoreOptions extends EtcdStoreOptions {
  /** etcd client options beyond the hosts (credentials, timeouts). */
  readonly client?: Omit<IOptions, 'hosts'>;
}

/** A store with a client of its own to `endpoints` (`http://host:2379`), closed with the store. */
export function createEtcdStore<R>(endpoints: readonly string[], codec: EtcdCodec<R>, options: CreateEtcdStoreOptions): EtcdStore<R> {
  const client = new Etcd3({
    // Fail calls in bounded time when etcd is gone, rather than queueing them behind reconnects.
    dialTimeout: 3000,
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + 5000 }),
    ...options.client,
    hosts: [...endpoints],
  });
  return new EtcdStore(client, codec, { prefix: options.prefix }, true, endpoints.join(','));
}
