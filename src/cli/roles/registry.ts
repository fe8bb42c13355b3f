/**
 * `nsm registry`: a memory registry (NetworkServices and endpoints, with expiry), on every address of
 * `NSM_LISTEN_ON`, optionally loaded with NetworkService manifests.
 * @module
 */
import { createRegistryClient } from '../../registry/chains/client/client.js';
import { serveRegistryServer } from '../../registry/chains/server/serve.js';
import { errorMessage } from '../../tools/grpc/status.js';
import { ConfigError } from '../config.js';
import { DRAIN_MS, logConfiguration, positiveDuration, roleSecurity, type Role } from './common.js';

/** `nsm registry`. */
export const registryRole: Role = async ({ settings, ctx, out }) => {
  const name = settings.string('name');
  const [listenOn = '', ...more] = settings.addresses('listen-on');
  const apply = settings.optional('apply');
  const lifetimeMs = positiveDuration(settings, 'max-token-lifetime');
  // Upstream checks for expired registrations every period; here each one has its own timer, so it goes
  // exactly on time, which is what any period approximates. The value is checked and shown, nothing more.
  settings.duration('expire-period');
  logConfiguration(ctx, settings);
  const identity = await roleSecurity(settings, ctx, 'registry', name, lifetimeMs);
  const { security } = identity;
  let served;
  try {
    served = await serveRegistryServer(listenOn, { ctx, name, security, server: { drainTimeoutMs: DRAIN_MS } });
  } catch (error) {
    identity.close();
    throw error;
  }
  try {
    for (const url of more) await served.server.listen(url);
    if (apply !== undefined) {
      const { applyNetworkServiceManifests, loadNetworkServiceManifests } = await import('../../tools/manifest/index.js');
      const admin = createRegistryClient({ connectTo: served.url, ctx, chain: { security, name } });
      try {
        let applied: readonly unknown[];
        try {
          applied = await applyNetworkServiceManifests(admin, await loadNetworkServiceManifests(apply));
        } catch (error) {
          throw new ConfigError(`--apply / NSM_APPLY: ${errorMessage(error).replace(/\n/g, '; ')}`);
        }
        out(`${name}: applied ${applied.length} NetworkService(s) from ${apply}`);
      } finally {
        admin.abandon();
      }
    }
  } catch (error) {
    await served.stop();
    identity.close();
    throw error;
  }
  out(`${name} ready on ${readyURLs(served.url, served.server.addresses.slice(1).map((a) => a.url))}`);
  const running = served;
  return {
    url: running.url,
    stop: async () => {
      await running.stop();
      identity.close();
    },
  };
};

/** `url` and, when there are more, `url, also on a, b`: scripts take the first URL. */
export function readyURLs(url: string, more: readonly string[]): string {
  return more.length === 0 ? url : `${url}, also on ${more.join(', ')}`;
}
