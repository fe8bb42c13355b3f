/**
 * SPIFFE IDs (`spiffe://<trust domain>/<path>`), checked as the SPIFFE ID specification says: the
 * scheme is `spiffe`, the trust domain is lowercase letters, digits, `.`, `-` and `_`, the path has no
 * empty, `.` or `..` segment and no trailing `/`, and there is no query, fragment, port or user info.
 * @module
 */

/** A parsed SPIFFE ID. */
export interface SpiffeId {
  /** The trust domain, e.g. `example.org`. */
  readonly trustDomain: string;
  /** The path, `''` or starting with `/`, e.g. `/nsmgr/node-1`. */
  readonly path: string;
  /** The whole ID, e.g. `spiffe://example.org/nsmgr/node-1`. */
  readonly text: string;
}

const TRUST_DOMAIN = /^[a-z0-9._-]+$/;
const PATH_SEGMENT = /^[A-Za-z0-9._-]+$/;

/** Why `text` is not a SPIFFE ID, or undefined when it is one. */
export function spiffeIdProblem(text: string): string | undefined {
  if (!text.startsWith('spiffe://')) return `"${text}" is not a SPIFFE ID: it must start with spiffe://`;
  const rest = text.slice('spiffe://'.length);
  const slash = rest.indexOf('/');
  const trustDomain = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? '' : rest.slice(slash);
  if (trustDomain === '') return `"${text}" has no trust domain`;
  if (!TRUST_DOMAIN.test(trustDomain)) {
    return `"${text}": the trust domain may hold only lowercase letters, digits, ".", "-" and "_"`;
  }
  if (path === '') return undefined;
  const segments = path.slice(1).split('/');
  for (const segment of segments) {
    if (segment === '') return `"${text}": the path has an empty segment (or a trailing "/")`;
    if (segment === '.' || segment === '..') return `"${text}": the path may not hold "." or ".." segments`;
    if (!PATH_SEGMENT.test(segment)) return `"${text}": path segments may hold only letters, digits, ".", "-" and "_"`;
  }
  return undefined;
}

/** Parses a SPIFFE ID; throws a TypeError naming the problem when `text` is not one. */
export function parseSpiffeId(text: string): SpiffeId {
  const problem = spiffeIdProblem(text);
  if (problem !== undefined) throw new TypeError(problem);
  const rest = text.slice('spiffe://'.length);
  const slash = rest.indexOf('/');
  return {
    trustDomain: slash < 0 ? rest : rest.slice(0, slash),
    path: slash < 0 ? '' : rest.slice(slash),
    text,
  };
}

/** The SPIFFE ID of a role, `spiffe://<trust domain>/<role>/<name>`, with the name made path-safe. */
export function roleSpiffeId(trustDomain: string, role: string, name: string): string {
  const safe = (s: string): string => s.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.{1,2}$/, '_') || '_';
  return parseSpiffeId(`spiffe://${trustDomain}/${safe(role)}/${safe(name)}`).text;
}
