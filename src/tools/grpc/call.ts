/**
 * Calls through a plain grpc-js `Client` with the generated method definitions, tied to a chain context:
 * the context's deadline becomes the call deadline and aborting its signal cancels the call.
 * @module
 */
import { Metadata, status, type Client, type CallOptions, type ClientUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { statusError } from './status.js';
import { Observable } from 'rxjs';
import { DeadlineExceededError, withoutStackTrace, type ChainContext } from '../../networkservice/core/context.js';
import { OUTGOING_METADATA, RESPONSE_HEADERS } from './keys.js';

/** The parts of a generated method definition that a unary call needs. */
export interface UnaryMethod<Req, Res> {
  /** The full method path, e.g. `/registry.NetworkServiceRegistry/Register`. */
  readonly path: string;
  /** Encodes a request message to protobuf bytes. */
  readonly requestSerialize: (value: Req) => Buffer;
  /** Decodes a response message from protobuf bytes. */
  readonly responseDeserialize: (value: Buffer) => Res;
}

/** Call options from a context: the deadline, if any. */
export function callOptions(ctx: ChainContext): CallOptions {
  const remaining = ctx.remaining();
  return remaining === undefined ? {} : { deadline: new Date(Date.now() + Math.max(0, remaining)) };
}

/** Makes a unary call; the outgoing metadata of the context (tokens and so on) goes with it. */
export function unaryCall<Req, Res>(
  client: Client,
  method: UnaryMethod<Req, Res>,
  request: Req,
  ctx: ChainContext,
): Promise<Res> {
  ctx.throwIfAborted();
  const metadata = ctx.value(OUTGOING_METADATA)?.clone() ?? new Metadata();
  return new Promise<Res>((resolve, reject) => {
    // Registered before the call starts, so a callback can never run before the listener exists.
    const started: { call?: ClientUnaryCall } = {};
    const removeCancel = ctx.onCancel(() => started.call?.cancel());
    // grpc-js captures an Error at the start of every unary call, to add the caller's stack to a failure;
    // our failures name the element that raised them, and the capture is a few percent of a manager's time.
    started.call = withoutStackTrace(() =>
      client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        metadata,
        callOptions(ctx),
        (error, response) => {
          removeCancel();
          if (error !== null) reject(deadlineAware(error, ctx, method.path));
          else if (response === undefined) reject(new Error(`${method.path}: empty response`));
          else resolve(response);
        },
      ),
    );
    const onHeaders = ctx.value(RESPONSE_HEADERS);
    if (onHeaders !== undefined) started.call.on('metadata', onHeaders);
  });
}

/**
 * A call cancelled because the context's deadline passed is a DEADLINE_EXCEEDED, not a CANCELLED: the
 * context's timer and the call's own deadline fire at about the same moment, and whichever wins, the
 * caller should read that time ran out.
 */
function deadlineAware(error: ServiceError, ctx: ChainContext, path: string): Error {
  if (error.code !== status.CANCELLED || !(ctx.cancelReason instanceof DeadlineExceededError)) return error;
  return statusError(status.DEADLINE_EXCEEDED, `${path}: deadline exceeded`, error);
}

/** The parts of a generated method definition that a server-streaming call needs. */
export type StreamMethod<Req, Res> = UnaryMethod<Req, Res>;

/**
 * Makes a server-streaming call as a cold Observable: the call starts on subscription, each message is
 * emitted, the end of the stream completes, a failure errors with the gRPC status. Unsubscribing cancels
 * the call, and so does aborting the context.
 */
export function serverStreamCall<Req, Res>(
  client: Client,
  method: StreamMethod<Req, Res>,
  request: Req,
  ctx: ChainContext,
): Observable<Res> {
  return new Observable<Res>((subscriber) => {
    if (ctx.cancelled) {
      subscriber.error(ctx.cancelReason);
      return undefined;
    }
    const metadata = ctx.value(OUTGOING_METADATA)?.clone() ?? new Metadata();
    const call = client.makeServerStreamRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      request,
      metadata,
      callOptions(ctx),
    );
    let done = false;
    const removeCancel = ctx.onCancel(() => call.cancel());
    call.on('data', (message: Res) => subscriber.next(message));
    call.on('error', (error: Error) => {
      done = true;
      removeCancel();
      subscriber.error(error);
    });
    call.on('end', () => {
      done = true;
      removeCancel();
      subscriber.complete();
    });
    return () => {
      removeCancel();
      if (!done) call.cancel();
    };
  });
}
