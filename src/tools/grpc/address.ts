/**
 * NSM addresses are URLs: `unix:///run/nsm/nsm.sock` or `tcp://127.0.0.1:5001`. This module parses them
 * and turns them into what grpc-js binds to and dials. `tcp://:5001` (no host) is upstream's way of saying
 * "every interface" when listening; dialed, it means this machine, as Go's `net.Dial` takes it.
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
      /** Host name or IP address, without IPv6 brackets; '' for every interface (`tcp://:5001`). */
      readonly host: string;
      /** Port number; 0 asks for any free port when listening. */
      readonly port: number;
      /** The address in canonical form, `tcp://host:port`. */
      readonly url: string;
    };

/**
 * Parses `unix:///abs/path`, `tcp://host:port` or `tcp://:port` (every interface); port 0 means "any free
 * port" when listening. Throws an INVALID_ARGUMENT status error that says what is wrong.
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
    // WHATWG URL parsing refuses an empty host, but upstream's NSM_LISTEN_ON default has one.
    const wildcard = /^tcp:\/\/:(\d{1,5})$/.exec(text);
    if (wildcard !== null) {
      const port = Number(wildcard[1]);
      if (port > 65535) throw statusError(status.INVALID_ARGUMENT, `invalid address "${url}": expected tcp://host:port with a port from 0 to 65535`);
      return { kind: 'tcp', host: '', port, url: `tcp://:${port}` };
    }
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

/**
 * The grpc-js target (for dialing) or bind address (for listening) of an address. An address with no host
 * dials `localhost`; a server binds it with {@link listenTargets}.
 */
export function grpcTarget(address: NsmAddress): string {
  if (address.kind === 'unix') return `unix://${address.path}`;
  return `${address.host === '' ? 'localhost' : formatHost(address.host)}:${address.port}`;
}

/** Whether a TCP address listens on every interface (`tcp://:port`, `tcp://0.0.0.0:port`, `tcp://[::]:port`). */
export function isWildcard(address: NsmAddress): boolean {
  return address.kind === 'tcp' && (address.host === '' || address.host === '0.0.0.0' || address.host === '::');
}

/**
 * What a server binds for `address`, in order of preference: for `tcp://:port` first IPv6's any address
 * (which takes IPv4 too where the host allows), then IPv4's, for hosts without IPv6.
 */
export function listenTargets(address: NsmAddress): string[] {
  if (address.kind === 'tcp' && address.host === '') return [`[::]:${address.port}`, `0.0.0.0:${address.port}`];
  return [grpcTarget(address)];
}

/** The same address with another TCP port (used after binding port 0). */
export function withPort(address: NsmAddress, port: number): NsmAddress {
  if (address.kind === 'unix') return address;
  return { ...address, port, url: `tcp://${formatHost(address.host)}:${port}` };
}

/** The same TCP address on another host (a wildcard listener's public address); a unix address is returned as is. */
export function withHost(address: NsmAddress, host: string): NsmAddress {
  if (address.kind === 'unix') return address;
  return { ...address, host, url: `tcp://${formatHost(host)}:${address.port}` };
}

/** The address peers are told to dial: an every-interface address names `publicHost` when one is given. */
export function publishedAddress(address: NsmAddress, publicHost?: string): NsmAddress {
  return publicHost !== undefined && isWildcard(address) ? withHost(address, publicHost) : address;
}
