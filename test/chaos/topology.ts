/**
 * The chaos run's domain layout: which roles run where, under which names and addresses, and what a
 * restart or a replacement of each looks like. Kept apart from the process handling ({@link Domain}) and
 * from the driver, so the layout can be read in one place.
 * @module
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Domain, RoleKind, RoleProcess, RoleSpec } from './domain.js';

/** The network service every endpoint offers and every client asks for. */
export const SERVICE = 'icmp-responder';

/** Options of {@link Topology}. */
export interface TopologyOptions {
  /** Nodes: one manager each. */
  readonly nodes: number;
  /** Endpoints, spread over the nodes round-robin. */
  readonly endpoints: number;
}

/**
 * The variables that shorten the lifetimes of the roles' tokens, for each kind of role that has the
 * setting (`NSM_MAX_TOKEN_LIFETIME`, upstream's name and duration format): a registration then expires
 * with its token, and a connection a dead hop left behind at the next hop with the token that hop minted.
 * Without it, registrations live the registry's default minute and such connections an hour.
 */
export function lifetimeEnv(
  lifetimeMs: number,
  known: ReadonlyMap<RoleKind, ReadonlySet<string>>,
): { readonly env: Partial<Record<RoleKind, Record<string, string>>>; readonly used: readonly string[] } {
  const env: Partial<Record<RoleKind, Record<string, string>>> = {};
  const used: string[] = [];
  const duration = `${Math.max(1, Math.round(lifetimeMs / 1000))}s`;
  for (const [kind, variables] of known) {
    if (!variables.has('NSM_MAX_TOKEN_LIFETIME')) continue;
    env[kind] = { NSM_MAX_TOKEN_LIFETIME: duration };
    used.push(`${kind} NSM_MAX_TOKEN_LIFETIME=${duration}`);
  }
  return { env, used };
}

/** The roles of one domain and how to bring each back. */
export class Topology {
  /** Replacements made per original name, for the next replacement's name. */
  private readonly generations = new Map<string, number>();
  private endpointCidrs = 0;
  private registryURL = '';
  private readonly managerURLs: string[] = [];

  constructor(
    private readonly domain: Domain,
    private readonly dir: string,
    private readonly options: TopologyOptions,
  ) {}

  /** Forwarders on node `n` (1-based): two on odd nodes, one on even ones, so both cases are covered. */
  static forwardersOn(n: number): number {
    return n % 2 === 1 ? 2 : 1;
  }

  /** The registry's URL. */
  get registry(): string {
    return this.registryURL;
  }

  /** The manager URL of node `n` (1-based). */
  manager(n: number): string {
    const url = this.managerURLs[n - 1];
    if (url === undefined) throw new Error(`no node ${n}`);
    return url;
  }

  /**
   * Starts the whole domain: the registry (with the NetworkService applied, so that a restarted
   * registry, which remembers nothing, still knows it), a manager per node, its forwarders, the endpoints.
   */
  async start(): Promise<void> {
    const manifest = join(this.dir, 'services.yaml');
    writeFileSync(manifest, ['apiVersion: networkservicemesh.io/v1', 'kind: NetworkService', `metadata: { name: ${SERVICE} }`, 'spec: { payload: IP }', ''].join('\n'));
    const registry = await this.domain.start({ kind: 'registry', name: 'registry', node: undefined, listenOn: 'tcp://127.0.0.1:0', env: { NSM_APPLY: manifest } });
    this.registryURL = registry.url;
    for (let n = 1; n <= this.options.nodes; n++) {
      const nsmgr = await this.domain.start({
        kind: 'nsmgr',
        name: `nsmgr-${n}`,
        node: n,
        listenOn: 'tcp://127.0.0.1:0',
        env: { NSM_REGISTRY_URL: this.registryURL, NODE_NAME: `node-${n}` },
      });
      this.managerURLs.push(nsmgr.url);
    }
    const starts: Promise<RoleProcess>[] = [];
    for (let n = 1; n <= this.options.nodes; n++) {
      for (let k = 1; k <= Topology.forwardersOn(n); k++) starts.push(this.domain.start(this.forwarder(`forwarder-${n}-${k}`, n)));
    }
    for (let j = 1; j <= this.options.endpoints; j++) starts.push(this.domain.start(this.endpoint(`nse-${j}`, ((j - 1) % this.options.nodes) + 1)));
    await Promise.all(starts);
  }

  /**
   * The replacement of a killed role: a forwarder or an endpoint gets a new name and a new socket on the
   * same node. A manager or the registry gets a new name on the same address: clients, forwarders,
   * endpoints and managers are configured with that address (in Kubernetes, the node's socket and the
   * registry's Service), so a replacement elsewhere would be unreachable by design.
   */
  replacement(old: RoleProcess): RoleSpec {
    const base = old.spec.name.replace(/-r\d+$/, '');
    const gen = (this.generations.get(base) ?? 0) + 1;
    this.generations.set(base, gen);
    const name = `${base}-r${gen}`;
    const node = old.spec.node ?? 1;
    switch (old.spec.kind) {
      case 'forwarder':
        return this.forwarder(name, node);
      case 'nse':
        return this.endpoint(name, node);
      case 'nsmgr':
      case 'registry':
        return { ...old.spec, name };
    }
  }

  private forwarder(name: string, node: number): RoleSpec {
    return { kind: 'forwarder', name, node, listenOn: this.domain.socket(name), env: { NSM_CONNECT_TO: this.manager(node), NODE_NAME: `node-${node}` } };
  }

  private endpoint(name: string, node: number): RoleSpec {
    // A range of its own per endpoint name (a restart keeps it): two endpoints never hand out the same address.
    const cidr = ++this.endpointCidrs;
    return {
      kind: 'nse',
      name,
      node,
      listenOn: this.domain.socket(name),
      env: {
        NSM_CONNECT_TO: this.manager(node),
        NODE_NAME: `node-${node}`,
        NSM_SERVICE_NAMES: SERVICE,
        NSM_CIDR_PREFIX: `10.${Math.floor(cidr / 256) % 256}.${cidr % 256}.0/24`,
      },
    };
  }
}

/** How often each kind of role is picked for a kill: the data-path roles most, the registry least. */
export const KILL_WEIGHTS: Readonly<Record<RoleKind, number>> = { forwarder: 3, nse: 3, nsmgr: 2, registry: 1 };
