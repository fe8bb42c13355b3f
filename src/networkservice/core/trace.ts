/**
 * Tracing of element calls. Every call of an element inside a chain runs in an OpenTelemetry span named
 * `<element>/<Request|Close>`; at debug level the logger gets what the element changed in the request and
 * in the response; and an error leaving an element is tagged with the element's name, once, at the
 * element that raised it, so the peer reads which element failed and why.
 * @module
 */
import { context as otelContext, trace, SpanStatusCode, type Span } from '@opentelemetry/api';
import type { Connection } from '../../api/gen/connection.js';
import type { NetworkServiceRequest } from '../../api/gen/networkservice.js';
import { errorMessage, NsmStatusError, toStatusError } from '../../tools/grpc/status.js';
import type { ChainContext } from './context.js';
import { diff, snapshot } from './diff.js';
import type { NetworkServiceElement, NetworkServiceHandler } from './types.js';

/** The tracer of every nsm-sdk span. */
export const tracer = trace.getTracer('nsm-sdk');

/** The element that raised an error, set on the error by the chain. */
export const RAISED_BY: unique symbol = Symbol('nsm.raisedBy');

type Tagged = Error & { [RAISED_BY]?: string };

/** The name of the element that raised `error`, when it left through a chain. */
export function raisedBy(error: unknown): string | undefined {
  return error instanceof Error ? (error as Tagged)[RAISED_BY] : undefined;
}

/** Tags an error with the element that raised it, unless an inner element already did. */
export function attributeError(error: unknown, element: string): Error {
  if (error instanceof Error && (error as Tagged)[RAISED_BY] !== undefined) return error;
  const status = toStatusError(error);
  const message = errorMessage(status);
  // A peer's answer already names its element (`connect/client: ...` from every hop): say it once.
  const prefixed = message.startsWith(`${element}: `) ? message : `${element}: ${message}`;
  const tagged: Tagged = new NsmStatusError(status.code, prefixed, { cause: error });
  tagged[RAISED_BY] = element;
  return tagged;
}

/**
 * Runs `fn` with `span` as the active span, so the next element's span nests under it. Only for a
 * recording span: activating a context costs more than the rest of a chain step, and a span nobody
 * records has no children worth linking.
 */
export function inSpan<T>(span: Span, fn: () => Promise<T>): Promise<T> {
  return span.isRecording() ? otelContext.with(trace.setSpan(otelContext.active(), span), fn) : fn();
}

/** Ends a span, recording `error` when there is one. */
export function finish(span: Span, error?: unknown): void {
  if (error !== undefined) {
    span.recordException(error instanceof Error ? error : errorMessage(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) });
  }
  span.end();
}

/** Runs one element's Request inside a span. */
export async function tracedRequest(
  element: NetworkServiceElement,
  name: string,
  request: NetworkServiceRequest,
  ctx: ChainContext,
  next: NetworkServiceHandler,
): Promise<Connection> {
  const span = tracer.startSpan(`${name}/Request`);
  const debug = ctx.logger.enabled('debug');
  let received: Connection | undefined;
  // Only at debug level: snapshot the request on entry, compare it when the element calls next, and
  // keep what next returned to compare with what the element returns.
  let nextForElement = next;
  if (debug) {
    const entry = snapshot(request);
    nextForElement = {
      async request(req: NetworkServiceRequest, c: ChainContext): Promise<Connection> {
        const changes = diff(entry, req);
        if (changes.length > 0) c.logger.debug(`${name} request changed`, { element: name, changes });
        const conn = await next.request(req, c);
        received = snapshot(conn);
        return conn;
      },
      close: (connection, c) => next.close(connection, c),
    };
  }
  try {
    const conn = await inSpan(span, () => element.request(request, ctx, nextForElement));
    if (debug && received !== undefined) {
      const changes = diff(received, conn);
      if (changes.length > 0) ctx.logger.debug(`${name} response changed`, { element: name, changes });
    }
    finish(span);
    return conn;
  } catch (error) {
    finish(span, error);
    throw attributeError(error, name);
  }
}

/** Runs one element's Close inside a span. */
export async function tracedClose(
  element: NetworkServiceElement,
  name: string,
  connection: Connection,
  ctx: ChainContext,
  next: NetworkServiceHandler,
): Promise<void> {
  const span = tracer.startSpan(`${name}/Close`);
  try {
    await inSpan(span, () => element.close(connection, ctx, next));
    finish(span);
  } catch (error) {
    finish(span, error);
    throw attributeError(error, name);
  }
}
