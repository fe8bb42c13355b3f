/**
 * `nsm nsmgr`: a Network Service Manager on every address of `NSM_LISTEN_ON`, with the excluded-prefixes
 * file watched and fed to every request, and the registry checked in the background until it answers.
 * @module
 */
import { serveNsmgr } from '../../networkservice/chains/nsmgr/serve.js';
import { excludedPrefixesServer } from '../../networkservice/common/excludedprefixes/index.js';
import { createRegistryClient } from '../../registry/chains/client/client.js';
import { watchExcludedPrefixes } from '../../tools/excludedprefixes/index.js';
import { DRAIN_MS, logConfiguration, positiveDuration, publicHostFor, retryUntil, roleSecurity, StartAborted, type Role } from './common.js';
import { readyURLs } from './registry.js';


/** Upstream publishes the first `tcp://` address of the list (peers on other nodes dial it), else the first. */
export function publishedFirst(urls: readonly string[]): string[] {
  const tcp = urls.findIndex((url) => url.startsWith('tcp://'));
  if (tcp <= 0) return [...urls];
  return [urls[tcp] ?? '', ...urls.filter((_, i) => i !== tcp)];
}

/** `nsm nsmgr`. */
export const nsmgrRole: Role = async ({ settings, ctx, out, env }) => {
  const name = settings.string('name');
  const [listenOn = '', ...more] = publishedFirst(settings.addresses('listen-on'));
  const registryURL = settings.address('registry-url');
  const forwarderService = settings.string('forwarder-network-service-name');
  const prefixesFile = settings.string('excluded-prefixes-file');
  const lifetimeMs = positiveDuration(settings, 'max-token-lifetime');
  const dialTimeoutMs = positiveDuration(settings, 'dial-timeout');
  const startTimeoutMs = settings.duration('start-timeout');
  logConfiguration(ctx, settings);
  const identity = await roleSecurity(settings, ctx, 'nsmgr', name, lifetimeMs);
  const { security } = identity;

  const prefixes = await watchExcludedPrefixes(prefixesFile, { logger: ctx.logger }).catch((error: unknown) => {
    identity.close();
    throw error;
  });
  const served = await serveNsmgr(listenOn, {
    name,
    registryURL,
    ctx,
    ...(env === undefined ? {} : { env }),
    security,
    dialOptions: { dialTimeoutMs },
    discoverForwarder: { serviceName: forwarderService },
    // In the manager's extra elements: the prefixes travel on to the endpoint, whose IPAM keeps clear of them.
    additionalFunctionality: [excludedPrefixesServer({ source: () => prefixes.current })],
    server: { drainTimeoutMs: DRAIN_MS, ...publicHostFor(listenOn) },
  }).catch((error: unknown) => {
    prefixes.close();
    identity.close();
    throw error;
  });
  try {
    for (const url of more) await served.server.listen(url);
  } catch (error) {
    await served.stop();
    prefixes.close();
    identity.close();
    throw error;
  }

  // The manager serves at once (its endpoints and forwarders can start), and says why the registry is not
  // answering until it does; if it never does within the start timeout, the manager gives up.
  const lifetime = new AbortController();
  const probe = createRegistryClient({ connectTo: registryURL, ctx, chain: { retry: false, heal: false, dialOptions: { dialTimeoutMs }, security, name } });
  const forever = new Promise<void>(() => undefined);
  const done = retryUntil({
    what: 'reach the registry',
    where: registryURL,
    peer: 'registry',
    signal: lifetime.signal,
    timeoutMs: startTimeoutMs,
    timeoutSetting: 'NSM_START_TIMEOUT',
    logger: ctx.logger,
    attempt: (signal, timeoutMs) => probe.findServices({ name: forwarderService }, { signal, timeoutMs: Math.min(timeoutMs ?? 5000, 5000) }),
  }).then(
    () => {
      probe.abandon();
      ctx.logger.info(`nsm nsmgr: the registry at ${registryURL} answers`);
      return forever;
    },
    (error: unknown) => {
      probe.abandon();
      if (error instanceof StartAborted) return forever;
      throw error;
    },
  );
  out(`${name} ready on ${readyURLs(served.url, served.server.addresses.slice(1).map((a) => a.url))}`);
  return {
    url: served.url,
    done,
    stop: async () => {
      lifetime.abort();
      await served.stop();
      prefixes.close();
      identity.close();
    },
  };
};
