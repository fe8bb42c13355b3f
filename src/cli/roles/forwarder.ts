/**
 * `nsm forwarder`: a forwarder with the no-op data plane (VXLAN from `NSM_TUNNEL_IP`), registered at its
 * manager. Started before the manager, it waits for it, one logged attempt a second.
 * @module
 */
import { isIP } from 'node:net';
import { serveForwarder, type ServedForwarder } from '../../networkservice/chains/forwarder/serve.js';
import { noopDataplane } from '../../networkservice/chains/forwarder/chain.js';
import { createRegistryClient } from '../../registry/chains/client/client.js';
import { ConfigError } from '../config.js';
import {
  DRAIN_MS,
  logConfiguration,
  positiveDuration,
  publicHostFor,
  removeSocketFile,
  retryUntil,
  socketIn,
  STOP_CALL_MS,
  roleSecurity,
  unlessAborted,
  type Role,
} from './common.js';

/** `nsm forwarder`. */
export const forwarderRole: Role = async ({ settings, ctx, out, signal }) => {
  const name = settings.string('name');
  const connectTo = settings.address('connect-to');
  const listenOn = settings.address('listen-on', socketIn(name));
  const labels = settings.labels('labels');
  const tunnelIP = settings.string('tunnel-ip');
  if (isIP(tunnelIP) === 0) throw new ConfigError(`--tunnel-ip / NSM_TUNNEL_IP: "${tunnelIP}" is not an IP address`);
  const lifetimeMs = positiveDuration(settings, 'max-token-lifetime');
  const dialTimeoutMs = positiveDuration(settings, 'dial-timeout');
  const startTimeoutMs = settings.duration('start-timeout');
  logConfiguration(ctx, settings);
  const identity = await roleSecurity(settings, ctx, 'forwarder', name, lifetimeMs);
  const { security } = identity;

  const probe = createRegistryClient({ connectTo, ctx, chain: { retry: false, heal: false, dialOptions: { dialTimeoutMs }, security, name } });
  let served: ServedForwarder;
  try {
    served = await retryUntil({
      what: `register ${name}`,
      where: connectTo,
      peer: 'manager',
      signal,
      timeoutMs: startTimeoutMs,
      timeoutSetting: 'NSM_START_TIMEOUT',
      logger: ctx.logger,
      attempt: async (attemptSignal, timeoutMs) => {
        // serveForwarder registers with retries of its own and no way to cancel them (15 s, then
        // "context deadline exceeded"): a find first tells at once whether the manager answers, and why not.
        await probe.findEndpoints({ name }, { signal: attemptSignal, timeoutMs: Math.min(timeoutMs ?? 5000, 5000) });
        return unlessAborted(
          serveForwarder(listenOn, {
            name,
            connectTo,
            ctx,
            dataplane: noopDataplane({ tunnelIP }),
            security,
            dialOptions: { dialTimeoutMs },
            server: { drainTimeoutMs: DRAIN_MS, ...publicHostFor(listenOn) },
            ...(Object.keys(labels).length > 0 ? { labels } : {}),
          }),
          attemptSignal,
          // Registered after all: unregister. Still registering: its socket is ours to remove; a registration
          // that lands after the process exits expires like a crashed forwarder's.
          { release: stopForwarder, abandon: () => removeSocketFile(listenOn) },
        );
      },
    });
  } catch (error) {
    identity.close();
    throw error;
  } finally {
    probe.abandon();
  }
  out(`${name} ready on ${served.url}`);
  return {
    url: served.url,
    stop: async () => {
      await stopForwarder(served);
      identity.close();
    },
  };
};

/** Unregisters (bounded: a dead manager must not hold up the exit) while the server closes and drains. */
async function stopForwarder(served: ServedForwarder): Promise<void> {
  await Promise.all([served.server.stop(), served.registry.close({ timeoutMs: STOP_CALL_MS })]);
  // Nothing is left to unregister or drain: this only ends the chain's timers and closes its channels.
  await served.stop();
}
