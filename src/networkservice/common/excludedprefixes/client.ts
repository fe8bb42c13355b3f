import type { Connection } from '../../../api/gen/connection.js';
import type { IPContext } from '../../../api/gen/connectioncontext.js';
import type { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import { errorMessage, status, statusError } from '../../../tools/grpc/status.js';
import type { IPNet } from '../../../tools/ippool/index.js';
import type { ChainContext } from '../../core/context.js';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/types.js';
import { appendMissing, ensureIPContext, parseNet } from './common.js';

/** What one connection of the group got from its endpoint. */
interface Held {
  /** Source and destination addresses, as the endpoint wrote them. */
  readonly addresses: readonly string[];
  /** Prefixes of the source and destination routes. */
  readonly routes: readonly string[];
}

/**
 * Keeps the connections of one client from getting clashing addresses: each request excludes what the
 * client's other connections hold, and an answer that clashes anyway is closed and refused.
 */
export class ExcludedPrefixesClient implements NetworkServiceElement {
  readonly name = 'excludedprefixes/client';
  private readonly held = new Map<string, Held>();

  /** Connections whose addresses are remembered; used by leak checks. */
  get size(): number {
    return this.held.size;
  }

  async request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    const conn = request.connection;
    if (conn === undefined) return next.request(request, ctx);
    const id = conn.id;
    const ipContext = ensureIPContext(conn);
    const exclusions: string[] = [];
    for (const [otherId, other] of this.held) {
      // A refresh must be free to keep its own addresses.
      if (otherId !== id) exclusions.push(...other.addresses, ...other.routes);
    }
    const added = new Set(appendMissing(ipContext.excludedPrefixes, exclusions));

    let result: Connection;
    try {
      result = await next.request(request, ctx);
    } finally {
      // The caller keeps the request it sent; the exclusions were for the endpoint only.
      removeAdded(ipContext, added);
    }
    const resultIP = result.context?.ipContext;
    if (resultIP !== undefined) removeAdded(resultIP, added);

    const clash = this.findClash(id, resultIP);
    if (clash !== undefined) {
      this.held.delete(id);
      try {
        await next.close(result, ctx);
      } catch (error) {
        ctx.logger.warn('excludedprefixes: closing a clashing connection failed', { id, error: errorMessage(error) });
      }
      throw statusError(
        status.FAILED_PRECONDITION,
        `excludedprefixes: address ${clash.address} of connection ${id} overlaps ${clash.otherAddress} of connection ${clash.otherId}`,
      );
    }
    this.held.set(id, {
      addresses: [...(resultIP?.srcIpAddrs ?? []), ...(resultIP?.dstIpAddrs ?? [])],
      routes: [...(resultIP?.srcRoutes ?? []), ...(resultIP?.dstRoutes ?? [])].map((r) => r.prefix).filter((p) => p !== ''),
    });
    return result;
  }

  async close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    try {
      await next.close(connection, ctx);
    } finally {
      this.held.delete(connection.id);
    }
  }

  /** The first address of `ipContext` that overlaps an address another connection holds. */
  private findClash(
    id: string,
    ipContext: IPContext | undefined,
  ): { address: string; otherAddress: string; otherId: string } | undefined {
    if (ipContext === undefined) return undefined;
    const mine = parseAll([...ipContext.srcIpAddrs, ...ipContext.dstIpAddrs]);
    if (mine.length === 0) return undefined;
    for (const [otherId, other] of this.held) {
      if (otherId === id) continue;
      for (const theirs of parseAll(other.addresses)) {
        const hit = mine.find((m) => m.net.overlaps(theirs.net));
        if (hit !== undefined) return { address: hit.text, otherAddress: theirs.text, otherId };
      }
    }
    return undefined;
  }
}

function parseAll(texts: readonly string[]): { text: string; net: IPNet }[] {
  const parsed: { text: string; net: IPNet }[] = [];
  for (const text of texts) {
    // Something unparsable cannot be compared; the endpoint's IPAM is the place that rejects it.
    const net = parseNet(text);
    if (net !== undefined) parsed.push({ text, net });
  }
  return parsed;
}

function removeAdded(ipContext: IPContext, added: ReadonlySet<string>): void {
  if (added.size > 0) ipContext.excludedPrefixes = ipContext.excludedPrefixes.filter((p) => !added.has(p));
}

/** An `excludedprefixes` client element; use one per client, shared by all its connections. */
export function excludedPrefixesClient(): ExcludedPrefixesClient {
  return new ExcludedPrefixesClient();
}
