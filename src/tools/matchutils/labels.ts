/**
 * Label selectors and the small template language their values may use, as upstream NSM's Go templates
 * do for a `map[string]string`: `{{.nodeName}}` is replaced by the value of `nodeName`.
 * @module
 */

/** A label set. */
export type Labels = Readonly<Record<string, string>>;

/** `labels` as `{k=v,...}`, for error messages. */
export function formatLabels(labels: Labels): string {
  return `{${Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',')}}`;
}

// Go template field names are identifiers; anything else inside the braces makes the template invalid.
const FIELD = /^\.([\p{L}_][\p{L}\p{N}_]*)$/u;

/**
 * Expands `{{.key}}` placeholders (whitespace allowed inside the braces, `{{ .key }}`) from `values`.
 * Returns undefined when a placeholder names a key `values` lacks, or when the template is malformed
 * (unbalanced braces, or something other than a `.key` between them). A string without braces comes
 * back unchanged.
 */
export function expandTemplate(template: string, values: Labels): string | undefined {
  let out = '';
  let at = 0;
  for (;;) {
    const open = template.indexOf('{{', at);
    const text = template.slice(at, open < 0 ? undefined : open);
    // A `}}` outside a placeholder has no opening braces to pair with.
    if (text.includes('}}')) return undefined;
    out += text;
    if (open < 0) return out;
    const close = template.indexOf('}}', open + 2);
    if (close < 0) return undefined;
    const key = FIELD.exec(template.slice(open + 2, close).trim())?.[1];
    // Own properties only: a label named `constructor` must not find Object.prototype's.
    if (key === undefined || !Object.hasOwn(values, key)) return undefined;
    out += values[key] ?? '';
    at = close + 2;
  }
}

/**
 * True when every key of `selector` is in `labels` with an equal value. A selector value may be a
 * template expanded from `values`; one that cannot be expanded matches only its literal text (upstream
 * falls back to the raw string the same way).
 */
export function isSubset(labels: Labels | undefined, selector: Labels | undefined, values: Labels): boolean {
  const have = labels ?? {};
  for (const [key, wanted] of Object.entries(selector ?? {})) {
    if (!Object.hasOwn(have, key)) return false;
    const actual = have[key];
    if (actual === wanted) continue;
    if (expandTemplate(wanted, values) !== actual) return false;
  }
  return true;
}

/** True when `a` and `b` hold the same keys with the same values. */
export function sameLabels(a: Labels, b: Labels): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}
