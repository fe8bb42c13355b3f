/**
 * `nsm nsc`: requests each network service, prints every connection as one JSON line when it is
 * established and again whenever it changes (refresh, heal), keeps them until stopped, then closes them.
 * A request that fails is tried again (one attempt per `NSM_REQUEST_TIMEOUT`, a second apart), and each
 * failed attempt is logged with the service and the reason, until `NSM_START_TIMEOUT`.
 * @module
 */
import type { Subscription } from 'rxjs';
import { Connection } from '../../api/gen/connection.js';
import type { DeepPartial, NetworkServiceRequest } from '../../api/gen/networkservice.js';
import { createClient } from '../../networkservice/chains/client/client.js';
import { excludedPrefixesClient } from '../../networkservice/common/excludedprefixes/index.js';
import { kernelMechanismPreference } from '../../networkservice/mechanisms/kernel/index.js';
import { errorMessage } from '../../tools/grpc/status.js';
import { KNOWN_MECHANISM_SCHEMES, type NetworkServiceURL } from '../../tools/nsurl/index.js';
import { ConfigError, type Settings } from '../config.js';
import { logConfiguration, positiveDuration, retryUntil, roleSecurity, STOP_CALL_MS, type Role } from './common.js';

/**
 * The requests of `NSM_NETWORK_SERVICES`: a URL without a scheme takes `NSM_MECHANISM`'s, the labels of
 * `NSM_LABELS` are added where the URL has none of that key (upstream's rule), and a mechanism `nsm` has
 * no client for (memif, vfio) is an error.
 */
export function nscRequests(settings: Settings): DeepPartial<NetworkServiceRequest>[] {
  const mechanism = settings.oneOf('mechanism', ['kernel'], 'the client can ask for KERNEL interfaces only');
  const urls = settings.networkServices('network-services', KNOWN_MECHANISM_SCHEMES, mechanism);
  const labels = settings.labels('labels');
  return urls.map((url: NetworkServiceURL) => {
    if (url.mechanism !== 'KERNEL') {
      throw new ConfigError(
        `--network-services / NSM_NETWORK_SERVICES: ${url.mechanism.toLowerCase()}://${url.networkService} asks for ${url.mechanism}, which nsm has no client mechanism for (use kernel://)`,
      );
    }
    try {
      return {
        connection: { networkService: url.networkService, labels: { ...labels, ...url.labels } },
        mechanismPreferences: [kernelMechanismPreference(url.interfaceName === '' ? undefined : url.interfaceName)],
      };
    } catch (error) {
      throw new ConfigError(`--network-services / NSM_NETWORK_SERVICES: ${errorMessage(error)}`);
    }
  });
}

/** `nsm nsc`. */
export const nscRole: Role = async ({ settings, ctx, out, signal }) => {
  const name = settings.string('name');
  const connectTo = settings.address('connect-to');
  const requests = nscRequests(settings);
  const requestTimeoutMs = positiveDuration(settings, 'request-timeout');
  const dialTimeoutMs = positiveDuration(settings, 'dial-timeout');
  const lifetimeMs = positiveDuration(settings, 'max-token-lifetime');
  const startTimeoutMs = settings.duration('start-timeout');
  logConfiguration(ctx, settings);
  const identity = await roleSecurity(settings, ctx, 'nsc', name, lifetimeMs);

  const client = createClient({
    name,
    connectTo,
    ctx,
    security: identity.security,
    dialOptions: { dialTimeoutMs },
    // As upstream's cmd-nsc: the client's connections keep clear of each other's addresses.
    additionalFunctionality: [excludedPrefixesClient()],
    heal: {
      onHeal: ({ id, cause, phase }) => {
        if (phase === 'start') ctx.logger.warn(`nsm nsc: connection ${id} lost (${cause}); healing`);
        else ctx.logger.info(`nsm nsc: connection ${id} healed`);
      },
    },
  });
  const subscriptions: Subscription[] = [];
  const stop = async (): Promise<void> => {
    for (const s of subscriptions) s.unsubscribe();
    await client.dispose({ timeoutMs: STOP_CALL_MS });
    identity.close();
  };
  try {
    for (const request of requests) {
      const service = request.connection?.networkService ?? '';
      const conn = await retryUntil({
        what: `request ${service}`,
        where: connectTo,
        peer: 'manager',
        signal,
        timeoutMs: startTimeoutMs,
        timeoutSetting: 'NSM_START_TIMEOUT',
        logger: ctx.logger,
        attempt: (attemptSignal, timeoutMs) => client.request(request, { signal: attemptSignal, timeoutMs: Math.min(requestTimeoutMs, timeoutMs ?? requestTimeoutMs) }),
      });
      subscriptions.push(client.watch(conn).subscribe((c) => out(JSON.stringify(Connection.toJSON(c)))));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { stop };
};
