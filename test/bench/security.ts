/**
 * Security figures. First the server's `authorize` on its own: the default token-path policies over a
 * four-segment path (nsc → nsmgr → forwarder → nse, judged at the endpoint) whose tokens are ES256 JWTs
 * signed by SVIDs of a dev trust domain, with the verifier's cache warm (the same tokens again, as on
 * refreshes and token reuse), with new tokens from signers it knows (a token renewed), and cold (a fresh
 * verifier per check: every certificate and signature checked), next to an empty policy list over the same
 * input, and to one ES256 verification by `jose` and by `node:crypto`. Then Request+Close through a sandbox domain with mTLS, signed
 * tokens and the default policies, next to the same domain insecure.
 */
import { verify, type KeyObject, type X509Certificate } from 'node:crypto';
import { compactVerify } from 'jose';
import { createDomain, type Domain } from '../../src/tools/sandbox/index.js';
import { defaultServerPathPolicies, enforce, firstViolation, type PathPolicy, type PathPolicyInput } from '../../src/tools/policy/index.js';
import { createDevTrustDomain, DevTrustDomainSource } from '../../src/tools/spiffe/index.js';
import { peerAuthInfoOf } from '../../src/tools/spiffe/tls.js';
import { certificateChain, createSvidTokenGenerator, TokenVerifier } from '../../src/tools/token/jwt.js';
import { fmt, latency, summarize, type LatencySummary } from './stats.js';

type Out = (line?: string) => void;

const TRUST_DOMAIN = 'bench.local';
const ROLES = ['nsc', 'nsmgr', 'forwarder', 'nse'] as const;

function row(name: string, s: LatencySummary, extra = ''): string {
  return `| ${name} | ${fmt(s.meanUs, 2)} | ${fmt(s.p50Us, 2)} | ${fmt(s.p99Us, 2)} |${extra}`;
}

/** The default server policies at the endpoint, warm and cold, vs no policy. */
async function authorizeFigures(out: Out): Promise<void> {
  const ca = await createDevTrustDomain(TRUST_DOMAIN);
  const sources = ROLES.map((role) => new DevTrustDomainSource(ca, { spiffeId: `spiffe://${TRUST_DOMAIN}/${role}/bench` }));
  try {
    await Promise.all(sources.map((source) => source.ready()));
    const source = (i: number): DevTrustDomainSource => sources[i] as DevTrustDomainSource;
    const peer = (i: number) => peerAuthInfoOf(source(i).current().leaf);
    // Each hop's token is for the next hop; the endpoint's own segment is for its caller, the forwarder.
    // Without reuse, each call signs anew (ECDSA signatures are randomized: a new token every time).
    const hops: [number, number][] = [[0, 1], [1, 2], [2, 3], [3, 2]];
    const signers = hops.map(([from, to]) => ({ generate: createSvidTokenGenerator({ source: source(from), maxLifetimeMs: 600_000, reuseMs: 0 }), audience: peer(to) }));
    const tokenSet = (): Promise<string[]> => Promise.all(signers.map(async ({ generate, audience }) => (await generate(audience)).token));
    const segmentsOf = (set: readonly string[]) => set.map((token, i) => ({ name: ROLES[i] ?? `hop-${i}`, token }));
    const tokens = await tokenSet();
    const bundle: readonly X509Certificate[] = certificateChain(source(0).current().bundlePem);
    const input: PathPolicyInput = {
      segments: segmentsOf(tokens),
      offset: 0,
      side: 'server',
      peer: peer(2),
      bundle,
      verifier: new TokenVerifier(),
      now: Date.now(),
    };
    const policies = defaultServerPathPolicies();
    const failed = await firstViolation(policies, input);
    if (failed !== undefined) throw new Error(`the bench path is refused by ${failed.policy.name}: ${failed.violation.reason}`);

    const none: PathPolicy[] = [];
    const leaf = source(0).current().leaf;
    const leafKey: KeyObject = leaf.publicKey;
    const caCert = bundle[0];
    if (caCert === undefined) throw new Error('the dev trust domain has no CA certificate');
    const caKey: KeyObject = caCert.publicKey;
    const token = tokens[0] as string;

    // New tokens from signers the verifier knows (a hop's token renewed, or reuse off): no cache hit.
    const NEW_SETS = 400;
    const freshSets: string[][] = [];
    for (let i = 0; i < NEW_SETS + 50; i++) freshSets.push(await tokenSet());
    let nextSet = 0;
    const renewed = () => enforce(policies, { ...input, segments: segmentsOf(freshSets[nextSet++] ?? tokens) });
    // The same check as jose's, without it: ES256 over "header.payload", the signature as r || s.
    const dot = token.lastIndexOf('.');
    const data = Buffer.from(token.slice(0, dot));
    const signatureBytes = Buffer.from(token.slice(dot + 1), 'base64url');
    const nodeVerify = () => {
      if (!verify('sha256', data, { key: leafKey, dsaEncoding: 'ieee-p1363' }, signatureBytes)) throw new Error('the signature does not verify');
      return Promise.resolve();
    };
    const baseline = () => enforce(none, input);
    const steady = () => enforce(policies, input);
    const cold = () => enforce(policies, { ...input, verifier: new TokenVerifier() });
    const jose = () => compactVerify(token, leafKey, { algorithms: ['ES256'] });
    const link = () => {
      if (!leaf.verify(caKey)) throw new Error('the leaf does not verify against its CA');
      return Promise.resolve();
    };
    for (let i = 0; i < 300; i++) {
      await baseline();
      await steady();
      await cold();
      await jose();
      await nodeVerify();
      await link();
    }
    for (let i = 0; i < 50; i++) await renewed();
    const baseLat = summarize(await latency(20_000, baseline));
    const steadyLat = summarize(await latency(20_000, steady));
    const coldLat = summarize(await latency(1_500, cold));
    const renewedLat = summarize(await latency(NEW_SETS, renewed));
    const joseLat = summarize(await latency(3_000, jose));
    const nodeLat = summarize(await latency(3_000, nodeVerify));
    const linkLat = summarize(await latency(3_000, link));
    // Each policy alone, warm, to show where the steady-state time goes.
    const each: string[] = [];
    for (const p of policies) {
      const alone = summarize(await latency(10_000, () => enforce([p], input)));
      each.push(row(`\`${p.name}\` alone`, alone, ` ${fmt(alone.meanUs / baseLat.meanUs, 1)} |`));
    }

    out('## Security: authorize per request');
    out();
    out('The default server policies (`tokens_valid`, `tokens_expired`, `tokens_chained`, `prev_token_signed`)');
    out('judged at the endpoint over a four-segment path nsc → nsmgr → forwarder → nse, whose tokens are ES256');
    out('JWTs signed by SVIDs of a dev trust domain (each with its leaf in `x5c`), the forwarder as the TLS peer.');
    out('Steady state: the same tokens again, the verifier\'s cache hits (refreshes, reused tokens). Cold: a');
    out('fresh verifier per check, so every token is checked against the bundle (certificate chain and');
    out('signature) and the caller\'s again against the peer: 5 ES256 signature checks and 4 chain checks.');
    out('New tokens, known signers: a verifier that has seen the signers, each check a new set of tokens (a');
    out('token renewed); every signature is checked, but certificates\' keys are cached.');
    out('Baseline: an empty policy list over the same input (µs per check, sequential):');
    out();
    out('| | mean | p50 | p99 | ratio mean / baseline |');
    out('| --- | --- | --- | --- | --- |');
    out(row('baseline: no policy', baseLat, ' 1.0 |'));
    out(row('default policies, steady state', steadyLat, ` ${fmt(steadyLat.meanUs / baseLat.meanUs, 1)} |`));
    for (const line of each) out(line);
    out(row('default policies, new tokens, known signers', renewedLat, ` ${fmt(renewedLat.meanUs / baseLat.meanUs, 1)} |`));
    out(row('default policies, cold (fresh verifier)', coldLat, ` ${fmt(coldLat.meanUs / baseLat.meanUs, 1)} |`));
    out(row('reference: one `jose` compactVerify (ES256)', joseLat, ` ${fmt(joseLat.meanUs / baseLat.meanUs, 1)} |`));
    out(row('reference: the same signature, `node:crypto` verify', nodeLat, ` ${fmt(nodeLat.meanUs / baseLat.meanUs, 1)} |`));
    out(row('reference: one chain link (`X509Certificate.verify`)', linkLat, ` ${fmt(linkLat.meanUs / baseLat.meanUs, 1)} |`));
    out();
    const met = (s: LatencySummary): string => (s.meanUs <= 200 ? 'met' : 'not met');
    out(`Goal: ≤ 200 µs per request with ES256 verification included. New tokens: ${fmt(renewedLat.meanUs)} µs mean`);
    out(`(${met(renewedLat)}; ${fmt(renewedLat.meanUs / joseLat.meanUs, 1)} compactVerify's worth); cold: ${fmt(coldLat.meanUs)} µs (${met(coldLat)};`);
    out(`${fmt(coldLat.meanUs / joseLat.meanUs, 1)} compactVerify's worth); steady state: ${fmt(steadyLat.meanUs)} µs (${met(steadyLat)}).`);
    out();
  } finally {
    for (const s of sources) s.close();
  }
}

interface Mode {
  readonly name: 'mtls' | 'insecure';
  readonly domain: Domain;
  readonly op: () => Promise<void>;
  readonly samples: bigint[];
}

/** A domain of `nodes` nodes with one endpoint on the last node, and a Request+Close from a client on node 0. */
async function modeDomain(name: Mode['name'], nodes: number): Promise<Mode> {
  const domain = await createDomain({ nodes, security: name });
  try {
    await domain.registerService({ name: 'bench-svc' });
    await domain.nodes[nodes - 1]!.addEndpoint({ name: 'nse-bench', networkServices: ['bench-svc'], cidr: '10.3.0.0/16' });
    const client = domain.nodes[0]!.client({ name: 'bench-nsc' });
    const op = async (): Promise<void> => {
      const conn = await client.request({ connection: { networkService: 'bench-svc' } });
      await client.close(conn);
    };
    return { name, domain, op, samples: [] };
  } catch (error) {
    await domain.stop();
    throw error;
  }
}

/**
 * mTLS vs insecure, both domains up at once; the measured operations alternate in rounds so that JIT
 * warm-up and machine drift fall on both alike.
 */
async function compare(nodes: number, rounds: number, perRound: number): Promise<{ mtls: LatencySummary; insecure: LatencySummary }> {
  const modes: Mode[] = [];
  try {
    modes.push(await modeDomain('mtls', nodes));
    modes.push(await modeDomain('insecure', nodes));
    for (let i = 0; i < 60; i++) for (const mode of modes) await mode.op();
    for (let r = 0; r < rounds; r++) {
      // Alternate which goes first.
      for (const mode of r % 2 === 0 ? modes : [...modes].reverse()) mode.samples.push(...(await latency(perRound, mode.op)));
    }
    const [mtls, insecure] = modes;
    return { mtls: summarize(mtls!.samples), insecure: summarize(insecure!.samples) };
  } finally {
    for (const mode of modes) await mode.domain.stop();
  }
}

async function meshFigures(out: Out): Promise<void> {
  const rounds = 6;
  const perRound = 50;
  const local = await compare(1, rounds, perRound);
  const remote = await compare(2, rounds, perRound);
  out('## Security: Request+Close with mTLS vs insecure');
  out();
  out('A sandbox domain in this process with `security: \'mtls\'` (the default: SPIFFE mTLS between roles, ES256');
  out('tokens, the default policies) next to the same domain with `security: \'insecure\'` (plaintext, unsigned');
  out('tokens, no policies). One endpoint, one client on node 0; local: 1 node (client → manager → forwarder →');
  out('endpoint); remote: 2 nodes, the endpoint on node 1. Both domains run at once and the measured operations');
  out(`alternate, ${rounds} rounds of ${perRound} each (${rounds * perRound} sequential operations per mode, after a warm-up).`);
  out();
  out('| | insecure p50 µs | insecure p99 µs | mtls p50 µs | mtls p99 µs | ratio p50 | ratio p99 | ratio mean | goal |');
  out('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const [name, { mtls, insecure }] of [
    ['local (1 node)', local],
    ['remote (2 nodes)', remote],
  ] as const) {
    out(
      `| ${name} | ${fmt(insecure.p50Us)} | ${fmt(insecure.p99Us)} | ${fmt(mtls.p50Us)} | ${fmt(mtls.p99Us)} | ` +
        `${fmt(mtls.p50Us / insecure.p50Us, 2)} | ${fmt(mtls.p99Us / insecure.p99Us, 2)} | ${fmt(mtls.meanUs / insecure.meanUs, 2)} | ≤ 1.3 |`,
    );
  }
  out();
}

/** Prints the security figures through `out`. */
export async function securityFigures(out: Out): Promise<void> {
  await authorizeFigures(out);
  await meshFigures(out);
}
