import { ConnectionContext, IPContext } from '../../../api/gen/connectioncontext.js';
import type { Connection } from '../../../api/gen/connection.js';
import { familyBits, IPNet, parseIP, tryParseCIDR } from '../../../tools/ippool/index.js';

/** The IP context of `conn`, created when missing so exclusions have a place to go. */
export function ensureIPContext(conn: Connection): IPContext {
  conn.context ??= ConnectionContext.create();
  conn.context.ipContext ??= IPContext.create();
  return conn.context.ipContext;
}

/** Reads a CIDR, or a bare address as its host prefix; undefined when `text` is neither. */
export function parseNet(text: string): IPNet | undefined {
  if (text.includes('/')) return tryParseCIDR(text);
  const address = parseIP(text);
  return address === undefined ? undefined : new IPNet(address.family, address.value, familyBits(address.family));
}

/** Appends to `list` the entries of `extra` it lacks (and repeats within `extra` once); returns those appended. */
export function appendMissing(list: string[], extra: Iterable<string>): string[] {
  const present = new Set(list);
  const appended: string[] = [];
  for (const item of extra) {
    if (present.has(item)) continue;
    present.add(item);
    list.push(item);
    appended.push(item);
  }
  return appended;
}
