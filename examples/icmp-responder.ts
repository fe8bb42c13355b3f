/**
 * icmp-responder: the classic NSM sample endpoint. It serves the network service `icmp-responder` over the
 * KERNEL mechanism and hands each client a point-to-point pair of addresses from `NSM_CIDR_PREFIX`.
 *
 * Environment (upstream's names):
 * - `NSM_NAME` (default `icmp-responder`): the endpoint's name and path segment name
 * - `NSM_LISTEN_ON` (default a unix socket under the OS temp dir): where to serve
 * - `NSM_CIDR_PREFIX` (default `169.254.0.0/16`): one or more comma-separated CIDRs (IPv4 and/or IPv6)
 * - `NSM_LOG_LEVEL` (default `info`)
 *
 * Prints one line `icmp-responder ready on <url>` when it serves, and stops cleanly on SIGINT/SIGTERM.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ChainContext,
  createLogger,
  endpointChain,
  kernelMechanismServer,
  mechanismsServer,
  MechanismType,
  type NetworkServiceChain,
  parseLogLevel,
  point2pointServer,
  runMain,
  type ServedEndpoint,
  securityFromEnv,
  type Security,
  serveEndpoint,
  stopOnSignals,
} from 'nsm-sdk';

/** The icmp-responder's configuration. */
export interface IcmpResponderConfig {
  readonly name: string;
  readonly listenOn: string;
  readonly cidrPrefixes: readonly string[];
}

/** Reads the configuration from the environment, with upstream's variable names. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): IcmpResponderConfig {
  const name = env['NSM_NAME'] ?? 'icmp-responder';
  return {
    name,
    listenOn: env['NSM_LISTEN_ON'] ?? `unix://${join(tmpdir(), 'nsm', `${name}.sock`)}`,
    cidrPrefixes: (env['NSM_CIDR_PREFIX'] ?? '169.254.0.0/16')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  };
}

/** The icmp-responder's chain: the common endpoint chain, then IPAM, then the kernel mechanism. */
export function icmpResponderChain(config: IcmpResponderConfig, security?: Security): NetworkServiceChain {
  return endpointChain({
    name: config.name,
    ...(security === undefined ? {} : { security }),
    additionalFunctionality: [
      point2pointServer(config.cidrPrefixes),
      mechanismsServer({ [MechanismType.KERNEL]: kernelMechanismServer() }),
    ],
  });
}

/** Starts the icmp-responder (insecure without a `security`); resolves once it serves. */
export async function startIcmpResponder(config: IcmpResponderConfig, ctx = ChainContext.background(), security?: Security): Promise<ServedEndpoint> {
  return serveEndpoint(config.listenOn, icmpResponderChain(config, security), { ctx, ...(security === undefined ? {} : { security }) });
}

async function main(): Promise<void> {
  const logger = createLogger(parseLogLevel(process.env['NSM_LOG_LEVEL'] ?? 'info'));
  const config = configFromEnv();
  // SPIFFE_ENDPOINT_SOCKET, NSM_SVID_DIR, NSM_TRUST_DOMAIN_DIR or NSM_INSECURE=true, as `nsm` roles.
  const identity = await securityFromEnv(process.env, { role: 'nse', name: config.name });
  const served = await startIcmpResponder(config, ChainContext.background({ logger }), identity.security);
  process.stdout.write(`${config.name} ready on ${served.url}\n`);
  stopOnSignals(async () => {
    await served.stop();
    identity.close();
  });
}

runMain(import.meta.url, 'icmp-responder', main);
