/**
 * `clientinfo` (registry, NetworkServiceEndpoint): labels an endpoint's registration with where it runs
 * (`nodeName`, `podName`, `clusterName`, from `NODE_NAME`, `POD_NAME`, `CLUSTER_NAME`), for every service
 * it offers, as upstream's registry clientinfo does. NetworkService matches can then route by location
 * (`destination_selector: { nodeName: "{{.nodeName}}" }`) to endpoints that never set such labels
 * themselves. A label the endpoint set itself wins.
 *
 * In a manager, which registers the endpoints of its node, only the node and cluster labels are its to
 * give (its own pod is not the endpoint's): {@link nsmgrClientInfoLabels}. An endpoint's own registry
 * client may add all three.
 * @module
 */
import { NetworkServiceLabels, type NetworkServiceEndpoint, type NetworkServiceEndpointQuery } from '../../../api/gen/registry.js';
import type { ChainContext } from '../../../networkservice/core/context.js';
import { CLIENT_INFO_LABELS } from '../../../networkservice/common/clientinfo/index.js';
import type { NSERegistryHandler } from '../../core/types.js';
import { NullRegistry } from '../null/index.js';

/** The labels a manager adds to the endpoints registered through it. */
export const nsmgrClientInfoLabels: readonly string[] = Object.freeze(['nodeName', 'clusterName']);

/** Options of {@link ClientInfoRegistry}. */
export interface RegistryClientInfoOptions {
  /** Where the variables are read; defaults to `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Which of `nodeName`, `podName`, `clusterName` to add; default all three. */
  readonly labels?: readonly string[];
}

/** The registry `clientinfo` element (server or client side: it only changes what is registered). */
export class ClientInfoRegistry extends NullRegistry<NetworkServiceEndpoint, NetworkServiceEndpointQuery> {
  override readonly name = 'clientinfo/registry';
  private readonly values: ReadonlyArray<readonly [string, string]>;

  constructor(options: RegistryClientInfoOptions = {}) {
    super();
    const env = options.env ?? process.env;
    const wanted = options.labels ?? Object.keys(CLIENT_INFO_LABELS);
    this.values = wanted.flatMap((label) => {
      const variable = CLIENT_INFO_LABELS[label];
      const value = variable === undefined ? undefined : env[variable];
      return value === undefined || value === '' ? [] : [[label, value] as const];
    });
  }

  override register(item: NetworkServiceEndpoint, ctx: ChainContext, next: NSERegistryHandler): Promise<NetworkServiceEndpoint> {
    if (this.values.length > 0) {
      for (const service of item.networkServiceNames) {
        const entry = (item.networkServiceLabels[service] ??= NetworkServiceLabels.create());
        for (const [label, value] of this.values) entry.labels[label] ??= value;
      }
    }
    return next.register(item, ctx);
  }
}

/** A registry `clientinfo` element. */
export function clientInfoRegistry(options?: RegistryClientInfoOptions): ClientInfoRegistry {
  return new ClientInfoRegistry(options);
}
