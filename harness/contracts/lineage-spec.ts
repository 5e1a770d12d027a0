/**
 * The `lineage` contract's scenario block, validated before anything starts:
 *
 *   "lineage": { "id": "field:event_id", "expect": { "where": { "type": ["click", "conversion"] } } }
 *
 * - `id`: where an output record carries its source event's id: `field:<dotted.path>` (a JSON or Avro field, or a
 *   lake row's column), `header:<name>`, or `key`.
 * - `expect`: how many outputs each input must produce. Absent: every input exactly once. `{ "where": { field:
 *   [values] } }`: the inputs whose field is one of the values (every listed field, when several) exactly once, every
 *   other input never. A module path (`"./expected.ts"`, default export `(event) => number`): its count per event.
 *   `where` fields are the generator's event fields of any schema version (dotted for nested ones:
 *   `consent.ads`), read as the latest schema version sees the event (a field an older writer lacked has its default).
 *
 * A bad value is StreamproofError `INVALID_SCENARIO` (exit 64) naming its path (`sut.lineage.id: ...`).
 */
import { asVersion, type Event, LATEST_SCHEMA_VERSION, SCHEMA_VERSIONS } from '../../generators/event.ts';
import { type AvroSchema, EVENT_SCHEMAS } from '../../generators/schemas.ts';
import { StreamproofError } from '../util/errors.ts';

export type LineageId =
  | { readonly kind: 'field'; readonly path: readonly string[]; readonly text: string }
  | { readonly kind: 'header'; readonly name: string; readonly text: string }
  | { readonly kind: 'key'; readonly text: 'key' };

export type Scalar = string | number | boolean | null;

export interface WhereClause {
  /** The dotted field name as written. */
  readonly field: string;
  readonly path: readonly string[];
  readonly values: readonly Scalar[];
}

export type LineageExpect =
  | { readonly kind: 'once' }
  | { readonly kind: 'where'; readonly where: readonly WhereClause[] }
  | { readonly kind: 'module'; readonly module: string };

export interface LineageSpec {
  /** The block's scenario path (`sut.lineage`), for messages. */
  readonly path: string;
  readonly id: LineageId;
  readonly expect: LineageExpect;
}

const MODULE_EXTENSIONS = /\.(ts|mts|cts|js|mjs|cjs)$/;

function bad(path: string, message: string): never {
  throw new StreamproofError('INVALID_SCENARIO', `${path}: ${message}`, { path });
}

/** A value for a message; never throws (a scenario module can hand over a bigint or a cycle). */
function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'bigint') return `${v}n`;
  let s: string | undefined;
  try {
    s = JSON.stringify(v);
  } catch {
    s = Object.prototype.toString.call(v);
  }
  return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** What a `where` field may hold: the JSON kinds of its values, and an enum's symbols. */
export interface FieldShape {
  readonly kinds: ReadonlySet<'string' | 'number' | 'boolean' | 'null'>;
  readonly symbols?: readonly string[];
}

function shapeOf(type: AvroSchema, into: Map<string, FieldShape>, name: string): void {
  const kinds = new Set<'string' | 'number' | 'boolean' | 'null'>();
  let symbols: string[] | undefined;
  const visit = (t: AvroSchema): void => {
    if (Array.isArray(t)) {
      for (const b of t) visit(b);
      return;
    }
    const o = (typeof t === 'string' ? { type: t } : t) as Record<string, unknown>;
    switch (o.type) {
      case 'string':
        kinds.add('string');
        return;
      case 'enum':
        kinds.add('string');
        symbols = [...(symbols ?? []), ...(o.symbols as string[])];
        return;
      case 'int':
      case 'long':
      case 'float':
      case 'double':
        kinds.add('number');
        return;
      case 'boolean':
        kinds.add('boolean');
        return;
      case 'null':
        kinds.add('null');
        return;
      case 'record':
        for (const f of o.fields as { name: string; type: AvroSchema }[]) shapeOf(f.type, into, `${name}.${f.name}`);
        return;
      default:
        if (typeof o.type === 'object' && o.type !== null) visit(o.type as AvroSchema);
    }
  };
  visit(type);
  if (kinds.size > 0) into.set(name, { kinds, ...(symbols ? { symbols } : {}) });
}

/** The generator's event fields of every schema version, dotted, with their shapes. */
export const EVENT_FIELDS: ReadonlyMap<string, FieldShape> = (() => {
  const m = new Map<string, FieldShape>();
  for (const v of SCHEMA_VERSIONS) for (const f of EVENT_SCHEMAS[v].fields) shapeOf(f.type, m, f.name);
  return m;
})();

function parseId(v: unknown, path: string): LineageId {
  const want = '"field:<dotted.path>", "header:<name>" or "key"';
  if (typeof v !== 'string') bad(path, `expected ${want}, got ${show(v)}`);
  if (v === 'key') return { kind: 'key', text: 'key' };
  if (v.startsWith('header:')) {
    const name = v.slice('header:'.length);
    if (name.length === 0 || name.trim() !== name) bad(path, `expected a header name after "header:", got ${show(v)}`);
    return { kind: 'header', name, text: v };
  }
  if (v.startsWith('field:')) {
    const parts = v.slice('field:'.length).split('.');
    if (parts.some((p) => p.length === 0 || p.trim() !== p)) {
      bad(path, `expected a dotted field path after "field:" (event_id, meta.source.id), got ${show(v)}`);
    }
    return { kind: 'field', path: parts, text: v };
  }
  bad(path, `expected ${want}, got ${show(v)}`);
}

function parseWhere(v: unknown, path: string): WhereClause[] {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    bad(path, `expected an object of event field -> array of values, got ${show(v)}`);
  }
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length === 0) bad(path, 'expected at least one event field');
  return entries.map(([field, values]) => {
    const at = `${path}.${field}`;
    const shape = EVENT_FIELDS.get(field);
    if (shape === undefined) {
      bad(at, `the generator's events have no field "${field}" (fields: ${[...EVENT_FIELDS.keys()].join(', ')})`);
    }
    if (!Array.isArray(values) || values.length === 0) {
      bad(at, `expected a non-empty array of values (strings, numbers, booleans or null), got ${show(values)}`);
    }
    values.forEach((x: unknown, i: number) => {
      const kind = x === null ? 'null' : typeof x;
      if (kind !== 'string' && kind !== 'number' && kind !== 'boolean' && kind !== 'null') {
        bad(`${at}[${i}]`, `expected a string, number, boolean or null, got ${show(x)}`);
      }
      if (kind === 'number' && !Number.isFinite(x)) bad(`${at}[${i}]`, `expected a finite number, got ${show(x)}`);
      if (!shape.kinds.has(kind)) {
        bad(`${at}[${i}]`, `${field} holds ${[...shape.kinds].join(' or ')}, never ${kind} (got ${show(x)})`);
      }
      if (kind === 'string' && shape.symbols && !shape.symbols.includes(x as string)) {
        bad(`${at}[${i}]`, `${field} is one of ${shape.symbols.map((s) => `"${s}"`).join(', ')}, got ${show(x)}`);
      }
    });
    return { field, path: field.split('.'), values: values as Scalar[] };
  });
}

function parseExpect(v: unknown, path: string): LineageExpect {
  if (v === undefined) return { kind: 'once' };
  if (typeof v === 'string') {
    if (!MODULE_EXTENSIONS.test(v)) {
      bad(
        path,
        `expected a module path ending in .ts, .mts, .cts, .js, .mjs or .cjs (default export (event) => number), got ${show(v)}`,
      );
    }
    return { kind: 'module', module: v };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    bad(path, `expected { "where": { field: [values] } } or a module path ("./expected.ts"), got ${show(v)}`);
  }
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (k !== 'where') bad(`${path}.${k}`, 'unknown field (known: where)');
  return { kind: 'where', where: parseWhere(o.where, `${path}.where`) };
}

/** Validates the scenario's `lineage` block (at `path`, e.g. `sut.lineage`). Pure and synchronous. */
export function validateLineage(raw: unknown, path: string): LineageSpec {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    bad(path, `expected { "id": "field:event_id", "expect"?: ... }, got ${show(raw)}`);
  }
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (k !== 'id' && k !== 'expect') bad(`${path}.${k}`, 'unknown field (known: id, expect)');
  }
  return { path, id: parseId(o.id, `${path}.id`), expect: parseExpect(o.expect, `${path}.expect`) };
}

/** The value at a dotted path of a plain object, undefined when any step is missing. */
export function valueAt(o: unknown, path: readonly string[]): unknown {
  let v = o;
  for (const k of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

/** The event as the latest schema version reads it (fields an older writer lacked take their defaults). */
export function latestView(e: Event): Record<string, unknown> {
  return ('consent' in e ? e : asVersion(e, LATEST_SCHEMA_VERSION)) as unknown as Record<string, unknown>;
}

/** 1 when the event matches every clause (its field is one of the listed values), else 0. */
export function whereCount(where: readonly WhereClause[], e: Event): number {
  const view = latestView(e);
  for (const c of where) if (!c.values.includes(valueAt(view, c.path) as Scalar)) return 0;
  return 1;
}
