/**
 * `nsm trust-domain`: a development trust domain for machines without SPIRE.
 *
 * - `nsm trust-domain init DIR [--trust-domain example.org]` makes a CA in DIR;
 * - `nsm trust-domain issue DIR --spiffe-id spiffe://example.org/x --out DIR2 [--lifetime 1h]` issues an
 *   X.509-SVID from the CA in DIR and writes it to DIR2 as spiffe-helper does (svid.pem, svid_key.pem,
 *   svid_bundle.pem), for roles that read their identity from files.
 *
 * Bad arguments are a ConfigError (one line, exit 2).
 * @module
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDuration } from './settings/values.js';
import { ConfigError } from './config.js';
import { createDevTrustDomain, issueSvid, readDevTrustDomain, spiffeIdProblem, TRUST_DOMAIN_FILES, writeDevTrustDomain, writeSvidFiles } from '../tools/spiffe/index.js';

/** The usage of `nsm trust-domain`. */
export const TRUST_DOMAIN_USAGE = [
  'usage: nsm trust-domain init DIR [--trust-domain example.org]',
  '       nsm trust-domain issue DIR --spiffe-id spiffe://<trust domain>/<path> --out DIR [--lifetime 1h]',
].join('\n');

function parse(args: readonly string[], options: Record<string, { type: 'string' }>): { dir: string; values: Record<string, string | undefined> } {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new ConfigError(`${(error as Error).message.split('\n')[0] ?? 'bad arguments'}\n${TRUST_DOMAIN_USAGE}`);
  }
  const [dir, ...extra] = parsed.positionals;
  if (dir === undefined || dir === '') throw new ConfigError(`a directory is needed\n${TRUST_DOMAIN_USAGE}`);
  if (extra.length > 0) throw new ConfigError(`unexpected argument "${extra[0] ?? ''}"`);
  const values: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(parsed.values)) values[name] = typeof value === 'string' ? value : undefined;
  return { dir, values };
}

/** Runs `nsm trust-domain ...args`; `out` gets one line saying what was written. */
export async function trustDomainCommand(args: readonly string[], out: (line: string) => void): Promise<number> {
  const [action, ...rest] = args;
  if (action === 'init') {
    const { dir, values } = parse(rest, { 'trust-domain': { type: 'string' } });
    const trustDomain = values['trust-domain'] ?? 'example.org';
    const problem = spiffeIdProblem(`spiffe://${trustDomain}`);
    if (problem !== undefined) throw new ConfigError(`--trust-domain ${trustDomain}: ${problem}`);
    if (existsSync(join(dir, TRUST_DOMAIN_FILES.key))) throw new ConfigError(`${dir} already holds a trust domain (${TRUST_DOMAIN_FILES.key}); not overwritten`);
    await writeDevTrustDomain(dir, await createDevTrustDomain(trustDomain));
    out(`trust domain ${trustDomain}: CA written to ${dir}`);
    return 0;
  }
  if (action === 'issue') {
    const { dir, values } = parse(rest, { 'spiffe-id': { type: 'string' }, out: { type: 'string' }, lifetime: { type: 'string' } });
    const spiffeId = values['spiffe-id'];
    const target = values['out'];
    if (spiffeId === undefined) throw new ConfigError(`--spiffe-id is needed\n${TRUST_DOMAIN_USAGE}`);
    if (target === undefined) throw new ConfigError(`--out is needed\n${TRUST_DOMAIN_USAGE}`);
    const problem = spiffeIdProblem(spiffeId);
    if (problem !== undefined) throw new ConfigError(`--spiffe-id: ${problem}`);
    const lifetimeText = values['lifetime'] ?? '1h';
    let lifetimeMs: number;
    try {
      lifetimeMs = parseDuration(lifetimeText);
    } catch (error) {
      throw new ConfigError(`--lifetime: ${(error as Error).message}`);
    }
    if (lifetimeMs <= 0) throw new ConfigError(`--lifetime ${lifetimeText}: an SVID needs a positive lifetime (e.g. 1h, 30m)`);
    const ca = await readDevTrustDomain(dir).catch((error: unknown) => {
      throw new ConfigError((error as Error).message);
    });
    const svid = await issueSvid(ca, spiffeId, lifetimeMs).catch((error: unknown) => {
      throw new ConfigError((error as Error).message);
    });
    await writeSvidFiles(target, svid);
    out(`${svid.spiffeId}: SVID written to ${target}, valid until ${svid.notAfter.toISOString()}`);
    return 0;
  }
  throw new ConfigError(`unknown trust-domain action "${action ?? ''}" (expected init or issue)\n${TRUST_DOMAIN_USAGE}`);
}
