/**
 * Heal across real `nsm` processes on two nodes, every role on loopback TCP: a forwarder killed with
 * SIGKILL and replaced by a new one (another name, another port), and an endpoint killed and replaced.
 * The client must come back UP through the new role soon after the new role has registered; the time
 * from the new role's ready line (printed once it is registered) to the client's UP line is printed
 * (about 200–250 ms on a quiet 2-core machine; the goal is 1 s). The bound asserted is looser, so that
 * load cannot fail the test, yet far below what a heal that waits for a dial timeout (5 s) or for the dead
 * role's registration to expire (a minute) would take.
 */
import { expect } from 'chai';
import { killAll, nsm, startRole, waitForLine, type Proc } from './nsm.js';

interface Printed {
  readonly state?: string;
  readonly networkServiceEndpointName?: string;
  readonly path?: { readonly pathSegments?: { readonly name?: string }[] };
}

const TCP = 'tcp://127.0.0.1:0';
/** Far above the ~250 ms measured and the 1 s goal, far below a 5 s dial timeout. */
const MAX_HEAL_MS = 4000;
const segments = (p: Printed): string[] => p.path?.pathSegments?.map((s) => s.name ?? '') ?? [];

/** Waits for the client's first UP line after `from` whose path satisfies `ok`; returns it and when it came. */
async function upLine(nsc: Proc, from: number, ok: (path: string[]) => boolean): Promise<[Printed, number]> {
  for (let seen = from; ; ) {
    const match = await waitForLine(nsc, /^\{.*\}$/, 30_000, seen);
    const index = nsc.lines.indexOf(match[0], seen);
    seen = index + 1;
    const printed = JSON.parse(match[0]) as Printed;
    if ((printed.state ?? 'UP') === 'UP' && ok(segments(printed))) return [printed, Date.now()];
  }
}

describe('heal across real processes (e2e)', function () {
  this.timeout(120_000);
  const procs: Proc[] = [];
  afterEach(() => {
    killAll(procs);
    procs.length = 0;
  });

  /** A registry, two managers with a forwarder each, one endpoint on node b, and a client on node a. */
  async function domain(): Promise<{ managers: string[]; nsc: Proc; conn: Printed }> {
    const [, registryURL] = await startRole(procs, 'registry', { NSM_LISTEN_ON: TCP });
    const managers: string[] = [];
    for (const node of ['a', 'b']) {
      const [, url] = await startRole(procs, 'nsmgr', { NSM_NAME: `nsmgr-${node}`, NSM_LISTEN_ON: TCP, NSM_REGISTRY_URL: registryURL, NODE_NAME: node });
      managers.push(url);
      await startRole(procs, 'forwarder', { NSM_NAME: `forwarder-${node}`, NSM_LISTEN_ON: TCP, NSM_CONNECT_TO: url });
    }
    await startRole(procs, 'nse', { NSM_NAME: 'nse-1', NSM_LISTEN_ON: TCP, NSM_CONNECT_TO: managers[1] ?? '', NSM_SERVICE_NAMES: 'svc', NSM_CIDR_PREFIX: '172.16.1.0/24' });
    const nsc = nsm('nsc', { NSM_NAME: 'nsc', NSM_CONNECT_TO: managers[0] ?? '', NSM_NETWORK_SERVICES: 'kernel://svc/nsm-1' });
    procs.push(nsc);
    const [conn] = await upLine(nsc, 0, () => true);
    expect(segments(conn)).to.deep.equal(['nsc', 'nsmgr-a', 'forwarder-a', 'nsmgr-b', 'forwarder-b', 'nse-1']);
    return { managers, nsc, conn };
  }

  /** The role process whose ready line names `name`. */
  const proc = (name: string): Proc => {
    const found = procs.find((p) => p.lines.some((l) => l.startsWith(`${name} ready`)));
    if (found === undefined) throw new Error(`no process ${name}`);
    return found;
  };

  for (const node of ['a', 'b'] as const) {
    it(`forwarder-${node} killed (SIGKILL) and replaced by a new forwarder: UP through it`, async function () {
      const { managers, nsc } = await domain();
      const printed = nsc.lines.length;
      proc(`forwarder-${node}`).child.kill('SIGKILL');
      await startRole(procs, 'forwarder', { NSM_NAME: `forwarder-${node}-2`, NSM_LISTEN_ON: TCP, NSM_CONNECT_TO: managers[node === 'a' ? 0 : 1] ?? '' });
      const registered = Date.now();
      const [healed, at] = await upLine(nsc, printed, (path) => path.includes(`forwarder-${node}-2`));
      console.log(`      forwarder-${node} replaced: UP ${at - registered} ms after the new forwarder registered`);
      expect(at - registered, 'healed without waiting for a timeout or an expiry').to.be.lessThan(MAX_HEAL_MS);
      expect(segments(healed)).to.not.include(`forwarder-${node}`);
      expect(segments(healed).at(-1)).to.equal('nse-1');
    });
  }

  it('the endpoint killed (SIGKILL) and a new one started: UP on it', async function () {
    const { managers, nsc } = await domain();
    const printed = nsc.lines.length;
    proc('nse-1').child.kill('SIGKILL');
    await startRole(procs, 'nse', { NSM_NAME: 'nse-2', NSM_LISTEN_ON: TCP, NSM_CONNECT_TO: managers[1] ?? '', NSM_SERVICE_NAMES: 'svc', NSM_CIDR_PREFIX: '172.16.2.0/24' });
    const registered = Date.now();
    const [healed, at] = await upLine(nsc, printed, (path) => path.at(-1) === 'nse-2');
    console.log(`      nse-1 replaced: UP ${at - registered} ms after nse-2 registered`);
    expect(at - registered, 'healed without waiting for a timeout or an expiry').to.be.lessThan(MAX_HEAL_MS);
    expect(segments(healed)).to.have.length(6);
  });
});
