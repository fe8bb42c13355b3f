import type { Connection } from '../../../api/gen/connection.js';
import type { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import { parseCIDR, tryParseCIDR } from '../../../tools/ippool/index.js';
import type { ChainContext } from '../../core/context.js';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/types.js';
import { appendMissing, ensureIPContext } from './common.js';

/** Options of {@link ExcludedPrefixesServer}. */
export interface ExcludedPrefixesServerOptions {
  /** CIDR prefixes excluded for every request; checked when the element is built. */
  readonly prefixes?: readonly string[];
  /**
   * Called on every request for more prefixes, so a list that changes at run time (a watched file) needs
   * no new chain. Entries that are not CIDRs are skipped with a warning: a bad edit must not break requests.
   */
  readonly source?: () => readonly string[];
}

/** Adds configured prefixes to every request's `excludedPrefixes`, keeping those already there. */
export class ExcludedPrefixesServer implements NetworkServiceElement {
  readonly name = 'excludedprefixes/server';
  private readonly prefixes: readonly string[];
  private readonly source: (() => readonly string[]) | undefined;

  /** @throws Error naming the first prefix that is not a valid CIDR */
  constructor(options: ExcludedPrefixesServerOptions = {}) {
    const prefixes = options.prefixes ?? [];
    for (const prefix of prefixes) parseCIDR(prefix);
    this.prefixes = [...prefixes];
    this.source = options.source;
  }

  request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    const conn = request.connection;
    if (conn !== undefined) {
      const prefixes = [...this.prefixes, ...this.dynamicPrefixes(ctx)];
      if (prefixes.length > 0) appendMissing(ensureIPContext(conn).excludedPrefixes, prefixes);
    }
    return next.request(request, ctx);
  }

  close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    return next.close(connection, ctx);
  }

  private dynamicPrefixes(ctx: ChainContext): string[] {
    if (this.source === undefined) return [];
    return this.source().filter((prefix) => {
      if (tryParseCIDR(prefix) !== undefined) return true;
      ctx.logger.warn('excludedprefixes: skipping an invalid prefix from the source', { prefix });
      return false;
    });
  }
}

/** An `excludedprefixes` server element excluding `prefixes` (and whatever `source` returns) from IPAM. */
export function excludedPrefixesServer(options?: ExcludedPrefixesServerOptions): ExcludedPrefixesServer {
  return new ExcludedPrefixesServer(options);
}
