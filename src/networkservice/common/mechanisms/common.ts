import { namedChain } from '../../core/chain.js';
import type { NetworkServiceElement } from '../../core/types.js';

/** Sub-elements by mechanism type (`Mechanism.type`, e.g. `KERNEL`), each handling only that type. */
export type MechanismElements = Readonly<Record<string, NetworkServiceElement>>;

/**
 * Wraps each sub-element in a one-element chain so its calls get their own span and an error it raises
 * names it, as for any element of a chain.
 */
export function wrapMechanismElements(
  side: 'server' | 'client',
  mechanisms: MechanismElements,
): Map<string, NetworkServiceElement> {
  const wrapped = new Map<string, NetworkServiceElement>();
  for (const [type, element] of Object.entries(mechanisms)) {
    if (type === '') throw new Error(`mechanisms/${side}: a mechanism type must not be empty`);
    wrapped.set(type, namedChain(`mechanisms/${side}/${type}`, [element]));
  }
  return wrapped;
}

/**
 * The type of a mechanism that is really set: ts-proto leaves an unset message undefined, but a peer may send
 * an empty one.
 */
export function mechanismType(mechanism: { type: string } | undefined): string | undefined {
  return mechanism === undefined || mechanism.type === '' ? undefined : mechanism.type;
}
