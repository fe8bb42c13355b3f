/**
 * Reads one YAML document of a manifest file into a NetworkService message, collecting every problem with
 * its line and path.
 * @module
 */
import {
  isAlias,
  isMap,
  isNode,
  isScalar,
  isSeq,
  LineCounter,
  type Document,
  type Node as YamlNode,
  type YAMLMap,
} from 'yaml';
import { Payload } from '../../api/constants.js';
import { NetworkService, type Destination, type Match } from '../../api/gen/registry.js';
import type { ManifestIssue } from './errors.js';

/** The `apiVersion` a NetworkService manifest must have. */
const API_VERSION = 'networkservicemesh.io/v1';
/** The `kind` a NetworkService manifest must have. */
const KIND = 'NetworkService';
/** The payloads `spec.payload` may name. */
const PAYLOADS: readonly string[] = [Payload.IP, Payload.ETHERNET];
/** The payload of a manifest without `spec.payload`. */
const DEFAULT_PAYLOAD: string = Payload.IP;
/** The largest `weight` (a uint32 on the wire). */
const MAX_WEIGHT = 0xffff_ffff;


/** `path` extended by a map key: `a.b`, or `a["b.c/d"]` for keys that are not plain identifiers. */
function childPath(path: string, key: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)) return path === '' ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}

/** A field of a mapping as read: its value (null when absent or null), where it is and what it is called. */
interface Field {
  readonly value: YamlNode | null;
  /** The line of its key, or of the mapping for an absent field. */
  readonly line: number;
  readonly path: string;
}

/** Field `name` of `fields` (read from the mapping at `path`), or an absent one placed on `line`. */
function field(fields: Map<string, Field>, name: string, line: number, path: string): Field {
  return fields.get(name) ?? { value: null, line, path: childPath(path, name) };
}

/** The fields a mapping may have: the key as written → the canonical name. */
type FieldNames = Readonly<Record<string, string>>;

const TOP_FIELDS: FieldNames = { apiVersion: 'apiVersion', kind: 'kind', metadata: 'metadata', spec: 'spec' };
const METADATA_FIELDS: FieldNames = { name: 'name', namespace: 'namespace', labels: 'labels', annotations: 'annotations' };
const SPEC_FIELDS: FieldNames = { payload: 'payload', matches: 'matches' };
const MATCH_FIELDS: FieldNames = {
  source_selector: 'sourceSelector',
  sourceSelector: 'sourceSelector',
  routes: 'routes',
  fallthrough: 'fallthrough',
  metadata: 'metadata',
};
const MATCH_METADATA_FIELDS: FieldNames = { labels: 'labels' };
const ROUTE_FIELDS: FieldNames = {
  destination_selector: 'destinationSelector',
  destinationSelector: 'destinationSelector',
  weight: 'weight',
};

/** Reads one YAML document, reporting problems to a shared list. */
export class DocumentReader {
  constructor(
    private readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
    private readonly issues: ManifestIssue[],
  ) {}

  report(line: number, path: string, message: string): void {
    this.issues.push({ line, path, message });
  }

  /** The node behind `value` (aliases followed), or null for an absent or null value. */
  node(value: unknown): YamlNode | null {
    const node = isAlias(value) ? (value.resolve(this.doc) ?? null) : value;
    if (!isNode(node)) return null;
    if (isScalar(node) && node.value === null) return null;
    return node;
  }

  /** The line `node` starts on, or `fallback` when it has no position. */
  lineOf(node: unknown, fallback: number): number {
    const range = isNode(node) ? node.range : undefined;
    return range ? this.lines.linePos(range[0]).line : fallback;
  }

  /** What a node is, for messages. */
  private describe(node: YamlNode): string {
    if (isMap(node)) return 'a mapping';
    if (isSeq(node)) return 'a list';
    if (isScalar(node)) {
      switch (typeof node.value) {
        case 'string':
          return 'a string';
        case 'number':
        case 'bigint':
          return 'a number';
        case 'boolean':
          return 'a boolean';
        default:
          return 'a scalar';
      }
    }
    return 'a node';
  }

  /** The fields of `map` by canonical name; unknown or doubled fields and non-string keys are reported. */
  fields(map: YAMLMap<unknown, unknown>, path: string, names: FieldNames): Map<string, Field> {
    const fields = new Map<string, Field>();
    const written = new Map<string, string>();
    const mapLine = this.lineOf(map, 1);
    for (const pair of map.items) {
      const keyNode = this.node(pair.key);
      const line = this.lineOf(pair.key, mapLine);
      if (!isScalar(keyNode) || typeof keyNode.value !== 'string') {
        const key = isScalar(keyNode) ? String(keyNode.value) : keyNode === null ? 'null' : '?';
        this.report(line, childPath(path, key), 'unknown field (keys must be strings)');
        continue;
      }
      const key = keyNode.value;
      const canonical = Object.hasOwn(names, key) ? names[key] : undefined;
      if (canonical === undefined) {
        this.report(line, childPath(path, key), 'unknown field');
        continue;
      }
      const earlier = written.get(canonical);
      if (earlier !== undefined) {
        this.report(line, childPath(path, key), `given twice (also as ${earlier})`);
        continue;
      }
      written.set(canonical, key);
      fields.set(canonical, { value: this.node(pair.value), line, path: childPath(path, key) });
    }
    return fields;
  }

  /** `field` as a mapping; undefined (reported) when it is something else, undefined (silently) when absent. */
  map(field: Field): YAMLMap<unknown, unknown> | undefined {
    if (field.value === null) return undefined;
    if (isMap(field.value)) return field.value;
    this.report(this.lineOf(field.value, field.line), field.path, `must be a mapping, not ${this.describe(field.value)}`);
    return undefined;
  }

  /** `field` as a list of items (null items kept as null) with their lines; undefined when absent or reported. */
  list(field: Field): { readonly node: YamlNode | null; readonly line: number }[] | undefined {
    if (field.value === null) return undefined;
    if (isSeq(field.value)) {
      const seqLine = this.lineOf(field.value, field.line);
      return field.value.items.map((item) => ({ node: this.node(item), line: this.lineOf(item, seqLine) }));
    }
    this.report(this.lineOf(field.value, field.line), field.path, `must be a list, not ${this.describe(field.value)}`);
    return undefined;
  }

  /** `field` as a string; undefined when absent or reported. Numbers and booleans are asked to be quoted. */
  string(field: Field): string | undefined {
    if (field.value === null) return undefined;
    if (isScalar(field.value)) {
      const value: unknown = field.value.value;
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
        this.report(this.lineOf(field.value, field.line), field.path, 'must be a string (quote it)');
        return undefined;
      }
    }
    this.report(this.lineOf(field.value, field.line), field.path, `must be a string, not ${this.describe(field.value)}`);
    return undefined;
  }

  /** `field` as a boolean; undefined when absent or reported. */
  boolean(field: Field): boolean | undefined {
    if (field.value === null) return undefined;
    if (isScalar(field.value) && typeof field.value.value === 'boolean') return field.value.value;
    this.report(this.lineOf(field.value, field.line), field.path, `must be true or false, not ${this.describe(field.value)}`);
    return undefined;
  }

  /** `field` as an integer in [0, max]; undefined when absent or reported. */
  unsigned(field: Field, max: number): number | undefined {
    if (field.value === null) return undefined;
    const line = this.lineOf(field.value, field.line);
    if (!isScalar(field.value) || typeof field.value.value !== 'number') {
      this.report(line, field.path, `must be a number, not ${this.describe(field.value)}`);
      return undefined;
    }
    const value = field.value.value;
    if (!Number.isInteger(value) || value < 0 || value > max) {
      this.report(line, field.path, `must be an integer from 0 to ${max}, not ${value}`);
      return undefined;
    }
    return value;
  }

  /** `field` as a map of string to string (a selector or labels); undefined when absent or reported. */
  stringMap(field: Field): Record<string, string> | undefined {
    const map = this.map(field);
    if (map === undefined) return undefined;
    const result: Record<string, string> = {};
    const mapLine = this.lineOf(map, field.line);
    for (const pair of map.items) {
      const keyNode = this.node(pair.key);
      const line = this.lineOf(pair.key, mapLine);
      if (!isScalar(keyNode) || typeof keyNode.value !== 'string') {
        const key = isScalar(keyNode) ? String(keyNode.value) : keyNode === null ? 'null' : '?';
        this.report(line, childPath(field.path, key), 'keys must be strings (quote it)');
        continue;
      }
      const entry: Field = { value: this.node(pair.value), line, path: childPath(field.path, keyNode.value) };
      if (entry.value === null) {
        this.report(line, entry.path, 'must be a string (quote it, "" for an empty value)');
        continue;
      }
      const value = this.string(entry);
      if (value !== undefined) result[keyNode.value] = value;
    }
    return result;
  }

  /** Checks that `field` is present and is `expected`. */
  private constant(field: Field, expected: string, docLine: number): void {
    const value = this.string(field);
    if (field.value === null) this.report(docLine, field.path, `is required (${expected})`);
    else if (value !== undefined && value !== expected) this.report(field.line, field.path, `must be ${expected}, not ${JSON.stringify(value)}`);
  }

  /** The document as a NetworkService and the line of its name; undefined when it has problems. */
  networkService(): { readonly service: NetworkService; readonly nameLine: number } | undefined {
    const before = this.issues.length;
    const contents = this.node(this.doc.contents);
    if (contents === null) return undefined;
    const docLine = this.lineOf(contents, 1);
    if (!isMap(contents)) {
      this.report(docLine, '', `a NetworkService manifest must be a mapping, not ${this.describe(contents)}`);
      return undefined;
    }
    const top = this.fields(contents, '', TOP_FIELDS);

    this.constant(field(top, 'apiVersion', docLine, ''), API_VERSION, docLine);
    this.constant(field(top, 'kind', docLine, ''), KIND, docLine);

    let name: string | undefined;
    let nameLine = docLine;
    const metadataField = field(top, 'metadata', docLine, '');
    const metadata = this.map(metadataField);
    if (metadata === undefined) {
      if (metadataField.value === null) this.report(docLine, 'metadata.name', 'is required');
    } else {
      const fields = this.fields(metadata, 'metadata', METADATA_FIELDS);
      const nameField = field(fields, 'name', metadataField.line, 'metadata');
      nameLine = nameField.line;
      name = this.string(nameField);
      if (nameField.value === null) this.report(nameField.line, 'metadata.name', 'is required');
      else if (name === '') this.report(nameField.line, 'metadata.name', 'must not be empty');
    }

    let payload = DEFAULT_PAYLOAD;
    const matches: Match[] = [];
    const spec = this.map(field(top, 'spec', docLine, ''));
    if (spec !== undefined) {
      const fields = this.fields(spec, 'spec', SPEC_FIELDS);
      const payloadField = field(fields, 'payload', docLine, 'spec');
      const given = this.string(payloadField);
      if (given !== undefined && !PAYLOADS.includes(given)) {
        this.report(payloadField.line, payloadField.path, `must be ${PAYLOADS.join(' or ')}, not ${JSON.stringify(given)}`);
      } else if (given !== undefined) {
        payload = given;
      }
      const list = this.list(field(fields, 'matches', docLine, 'spec'));
      list?.forEach((item, index) => {
        const match = this.match(item.node, `spec.matches[${index}]`, item.line);
        if (match !== undefined) matches.push(match);
      });
    }

    if (this.issues.length > before || name === undefined) return undefined;
    return { service: NetworkService.fromPartial({ name, payload, matches }), nameLine };
  }

  /** One `spec.matches[]` item. */
  private match(node: YamlNode | null, path: string, fallbackLine: number): Match | undefined {
    const line = this.lineOf(node, fallbackLine);
    const map = this.map({ value: node, line, path });
    if (map === undefined) {
      if (node === null) this.report(line, path, 'must be a mapping, not null');
      return undefined;
    }
    const fields = this.fields(map, path, MATCH_FIELDS);
    const sourceSelector = this.stringMap(field(fields, 'sourceSelector', line, path)) ?? {};
    const fallthrough = this.boolean(field(fields, 'fallthrough', line, path)) ?? false;
    const routes: Destination[] = [];
    const list = this.list(field(fields, 'routes', line, path));
    list?.forEach((item, index) => {
      const route = this.route(item.node, `${path}.routes[${index}]`, item.line);
      if (route !== undefined) routes.push(route);
    });
    let metadata: Match['metadata'];
    const metadataField = field(fields, 'metadata', line, path);
    const metadataMap = this.map(metadataField);
    if (metadataMap !== undefined) {
      const metadataFields = this.fields(metadataMap, metadataField.path, MATCH_METADATA_FIELDS);
      const labels = this.stringMap(field(metadataFields, 'labels', metadataField.line, metadataField.path)) ?? {};
      metadata = { labels };
    }
    return { sourceSelector, routes, fallthrough, metadata };
  }

  /** One `routes[]` item. */
  private route(node: YamlNode | null, path: string, fallbackLine: number): Destination | undefined {
    const line = this.lineOf(node, fallbackLine);
    const map = this.map({ value: node, line, path });
    if (map === undefined) {
      if (node === null) this.report(line, path, 'must be a mapping, not null');
      return undefined;
    }
    const fields = this.fields(map, path, ROUTE_FIELDS);
    const destinationSelector = this.stringMap(field(fields, 'destinationSelector', line, path)) ?? {};
    const weight = this.unsigned(field(fields, 'weight', line, path), MAX_WEIGHT) ?? 0;
    return { destinationSelector, weight };
  }
}
