import { EMPTY } from 'rxjs';
import type { RegistryHandler } from './types.js';

const TAIL: RegistryHandler<unknown, unknown> = {
  register: (item) => Promise.resolve(item),
  find: () => EMPTY,
  unregister: () => Promise.resolve(),
};

/**
 * The end of every registry chain: Register returns the item as it arrived, Find emits nothing and
 * completes, Unregister does nothing. One shared object, so chain links cached per `next` are reused.
 */
export function registryTail<R, Q>(): RegistryHandler<R, Q> {
  return TAIL as RegistryHandler<R, Q>;
}
