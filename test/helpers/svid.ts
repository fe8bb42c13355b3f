import { BehaviorSubject, type Observable } from 'rxjs';
import { createDevTrustDomain, DevTrustDomainSource, type DevTrustDomain, type X509Source, type X509Svid } from '../../src/tools/spiffe/index.js';

/** A dev trust domain's source for `spiffeId`, once it has its first SVID. */
export async function devSource(ca: DevTrustDomain, spiffeId: string, lifetimeMs?: number): Promise<DevTrustDomainSource> {
  const source = new DevTrustDomainSource(ca, { spiffeId, ...(lifetimeMs === undefined ? {} : { lifetimeMs }) });
  await source.ready();
  return source;
}

/** A source whose SVID the test sets (rotation by hand). */
export class ManualSource implements X509Source {
  private readonly subject: BehaviorSubject<X509Svid>;
  readonly updates: Observable<X509Svid>;

  constructor(svid: X509Svid) {
    this.subject = new BehaviorSubject(svid);
    this.updates = this.subject.asObservable();
  }

  current(): X509Svid {
    return this.subject.value;
  }

  ready(): Promise<X509Svid> {
    return Promise.resolve(this.subject.value);
  }

  /** Rotates to `svid`. */
  set(svid: X509Svid): void {
    this.subject.next(svid);
  }

  close(): void {
    this.subject.complete();
  }
}

/** A fresh dev trust domain (each test file its own: a foreign one is just another call). */
export function trustDomain(name = 'example.org'): Promise<DevTrustDomain> {
  return createDevTrustDomain(name);
}
