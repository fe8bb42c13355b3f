/**
 * NSM addresses are URLs: `unix:///run/nsm/nsm.sock` or `tcp://127.0.0.1:5001`. This module parses them
 * and turns them into what grpc-js binds to and dials.
 * @module
 */
import { statusError, status } from './status.js';

/** A parsed NSM address. */
export type NsmAddress =
  | {
      /** A unix domain socket. */
      readonly kind: 'unix';
      /** The socket's absolute path. */
      readonly path: string;
      /** The address in canonical form, `unix:///path`. */
      readonly url: string;
    }
  | {
      /** A TCP socket. */
      readonly kind: 'tcp';
      /** Host name or IP address, without IPv6 brackets. */
      readonly host: string;
      /** Port number; 0 asks for any free port when listening. */
      readonly port: number;
      /** The address in canonical form, `tcp://host:port`. */
      readonly url: string;
    };

/**
 * Parses `unix:///abs/path` or `tcp://host:port` (port 0 means "any free port" when listening).
 * Throws an INVALID_ARGUMENT status error that says what is wrong.
 */
export function parseAddress(url: string): NsmAddress {
  const text = url.trim();
  if (text.startsWith('unix://')) {
    const path = text.slice('unix://'.length);
    if (!path.startsWith('/')) {
      throw statusError(status.INVALID_ARGUMENT, `invalid address "${url}": a unix address needs an absolute path (unix:///path/to/socket)`);
    }
    return { kind: 'unix', path, url: `unix://${path}` };
  }
  if (text.startsWith('tcp://')) {
    let parsed: URL;
    try {
      parsed = new URL(text);
    } catch {
      throw statusError(status.INVALID_ARGUMENT, `invalid address "${url}": expected tcp://host:port`);
    }
    const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = parsed.port === '' ? NaN : Number(parsed.port);
    if (host === '' || !Number.isInteger(port) || port < 0 || port > 65535 || (parsed.pathname !== '' && parsed.pathname !== '/')) {
      throw statusError(status.INVALID_ARGUMENT, `invalid address "${url}": expected tcp://host:port with a port from 0 to 65535`);
    }
    return { kind: 'tcp', host, port, url: `tcp://${formatHost(host)}:${port}` };
  }
  throw statusError(
    status.INVALID_ARGUMENT,
    `invalid address "${url}": expected unix:///path or tcp://host:port`,
  );
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** The grpc-js target (for dialing) or bind address (for listening) of an address. */
export function grpcTarget(address: NsmAddress): string {
  return address.kind === 'unix' ? `unix://${address.path}` : `${formatHost(address.host)}:${address.port}`;
}

/** The same address with another TCP port (used after binding port 0). */
export function withPort(address: NsmAddress, port: number): NsmAddress {
  if (address.kind === 'unix') return address;
  return { ...address, port, url: `tcp://${formatHost(address.host)}:${port}` };
}
