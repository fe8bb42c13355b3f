import { ContextKey } from '../../core/context.js';

/** Set by a trimpath client to tell the trimpath server above it not to trim this call's path. */
export interface TrimPathFlag {
  keepPath: boolean;
}

/**
 * Where a trimpath server leaves its flag for the call. Each server puts a fresh flag in the context it
 * passes to `next`, so the nearest server above a client is the one told, and only for this call.
 */
export const TRIM_PATH_FLAG = new ContextKey<TrimPathFlag>('trimpath.flag');
