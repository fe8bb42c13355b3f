/**
 * Counts real TCP connections from the kernel's tables, so a test can prove how many sockets a role opens
 * (the server side of each established connection has the server's port as its local port).
 */
import { readFileSync } from 'node:fs';

const ESTABLISHED = '01';

function entries(file: string): string[][] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((fields) => fields.length > 3);
  } catch {
    return []; // no IPv6 on this machine
  }
}

/** Established TCP connections accepted on `port` (any local address). */
export function acceptedOn(port: number): number {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  let n = 0;
  for (const fields of [...entries('/proc/net/tcp'), ...entries('/proc/net/tcp6')]) {
    const local = fields[1] ?? '';
    if (fields[3] === ESTABLISHED && local.endsWith(`:${hex}`)) n++;
  }
  return n;
}

/** The port of a `tcp://host:port` URL. */
export function portOf(url: string): number {
  const port = Number(new URL(url.replace(/^tcp:/, 'http:')).port);
  if (!Number.isInteger(port) || port <= 0) throw new Error(`no port in ${url}`);
  return port;
}
