/**
 * What sandbox tests use besides the domain: a token generator every role of a test domain trusts, and a
 * counter of what reaches an endpoint or a forwarder.
 * @module
 */
import type { Connection } from '../../api/gen/connection.js';
import type { NetworkServiceRequest } from '../../api/gen/networkservice.js';
import type { ChainContext } from '../../networkservice/core/context.js';
import type { NetworkServiceHandler, NetworkServiceServer } from '../../networkservice/core/types.js';
import { createUnsignedTokenGenerator, type TokenGenerator } from '../token/index.js';

/** An insecure sandbox's token generator: unsigned tokens, subject `spiffe://sandbox.local/<name>`. */
export function testTokenGenerator(name: string, lifetimeMs = 60 * 60 * 1000): TokenGenerator {
  return createUnsignedTokenGenerator({ subject: `spiffe://sandbox.local/${name}`, lifetimeMs });
}

/** Counts what reaches an endpoint. */
export class CountingServer implements NetworkServiceServer {
  readonly name = 'counter';
  /** How many Requests reached it. */
  requests = 0;
  /** How many Closes reached it. */
  closes = 0;

  /** Counts the Request and passes it on. */
  request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    this.requests++;
    return next.request(request, ctx);
  }

  /** Counts the Close and passes it on. */
  close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    this.closes++;
    return next.close(connection, ctx);
  }
}
