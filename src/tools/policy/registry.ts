/**
 * The registry's ownership policy (upstream's `registry_client_allowed`): a name belongs to the workload
 * that registered it first, until that registration is unregistered or expires. Another workload can
 * neither replace the endpoint (and steer clients to itself) nor unregister it (and cut its clients off).
 * The registrant is the SPIFFE ID that signed the first segment of the registry path, which
 * `tokens_valid` proved; a manager that passes a registration on does not become its owner.
 * @module
 */
import { policy, type Policy } from './types.js';

/** What the ownership policy judges. */
export interface RegistrantInput {
  /** `register` or `unregister`. */
  readonly operation: 'register' | 'unregister';
  /** The registered name (endpoint or network service). */
  readonly name: string;
  /** Who asks: the SPIFFE ID of the registry path's first segment. */
  readonly registrant: string;
  /** Who holds the name now, or undefined when nobody does. */
  readonly owner: string | undefined;
}

/** A policy over registrations. */
export type RegistryPolicy = Policy<RegistrantInput>;

/** Only the workload that registered a name may register it again or unregister it. */
export const registrantOnly: RegistryPolicy = policy('registry_client_allowed', (input) => {
  if (input.owner === undefined || input.owner === input.registrant) return undefined;
  return { reason: `"${input.name}" is registered by ${input.owner}; ${input.registrant || 'an unidentified caller'} may not ${input.operation} it` };
});

/** The default registry policies: the ownership rule. */
export function defaultRegistryPolicies(): RegistryPolicy[] {
  return [registrantOnly];
}

/**
 * Who owns which name, for {@link registrantOnly}. An entry lasts as long as the registration: it is
 * dropped on unregister and once the registration's expiry has passed, so an endpoint that died without
 * unregistering frees its name when the registry forgets it, and the table holds no more than the
 * registry does.
 */
export class RegistrantTable {
  private readonly owners = new Map<string, { readonly owner: string; readonly expiresMs: number }>();
  private sweepAt = 1024;

  /** The owner of `name` at `now`, or undefined. */
  ownerOf(name: string, now: number): string | undefined {
    const entry = this.owners.get(name);
    if (entry === undefined) return undefined;
    if (entry.expiresMs <= now) {
      this.owners.delete(name);
      return undefined;
    }
    return entry.owner;
  }

  /** Records `owner` for `name` until `expiresMs`. */
  claim(name: string, owner: string, expiresMs: number, now: number): void {
    this.owners.set(name, { owner, expiresMs });
    if (this.owners.size >= this.sweepAt) {
      // Entries of registrations that expired without being asked about again.
      for (const [key, entry] of this.owners) if (entry.expiresMs <= now) this.owners.delete(key);
      this.sweepAt = Math.max(1024, this.owners.size * 2);
    }
  }

  /** Frees `name`. */
  release(name: string): void {
    this.owners.delete(name);
  }

  /** Names held now (for leak checks). */
  get size(): number {
    return this.owners.size;
  }
}
