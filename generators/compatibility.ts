/**
 * Avro schema resolution as the specification states it (https://avro.apache.org/docs/1.11.1/specification/,
 * "Schema Resolution"), decided on schema JSON alone: can a reader with schema R read every datum written with W?
 * This is the schema-level question a registry answers; the compatibility modes are built from it:
 *
 *   BACKWARD            the new schema reads data of the previous one      canRead(new, prev)
 *   FORWARD             the previous schema reads data of the new one      canRead(prev, new)
 *   FULL                both
 *   *_TRANSITIVE        the same against every earlier schema, not only the previous one
 *
 * Deliberately independent of avsc, so the tests can hold avsc to it.
 */
import type { AvroSchema } from './schemas.ts';

export const COMPATIBILITY_MODES = [
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
] as const;
export type CompatibilityMode = (typeof COMPATIBILITY_MODES)[number];
export type CompatibilityLabels = Record<CompatibilityMode, boolean>;

export type ReadCheck = { ok: true } | { ok: false; path: string; reason: string };

const PROMOTIONS: Record<string, readonly string[]> = {
  int: ['long', 'float', 'double'],
  long: ['float', 'double'],
  float: ['double'],
  string: ['bytes'],
  bytes: ['string'],
};
const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);

type Named = Record<string, unknown> & { type: string; name?: string; namespace?: string };

/** Collects named types so references by name resolve. Names are indexed by full and by short name. */
function names(schema: AvroSchema, ns: string | undefined, into: Map<string, Named>): void {
  if (Array.isArray(schema)) {
    for (const s of schema) names(s, ns, into);
    return;
  }
  if (typeof schema !== 'object' || schema === null) return;
  const s = schema as Named;
  let inner = ns;
  if (
    (s.type === 'record' || s.type === 'enum' || s.type === 'fixed' || s.type === 'error') &&
    typeof s.name === 'string'
  ) {
    const full = s.name.includes('.') ? s.name : (s.namespace ?? ns) ? `${s.namespace ?? ns}.${s.name}` : s.name;
    into.set(full, s);
    into.set(shortName(full), s);
    inner = full.includes('.') ? full.slice(0, full.lastIndexOf('.')) : undefined;
  }
  if (Array.isArray(s.fields)) for (const f of s.fields as { type: AvroSchema }[]) names(f.type, inner, into);
  if (s.items !== undefined) names(s.items as AvroSchema, inner, into);
  if (s.values !== undefined) names(s.values as AvroSchema, inner, into);
}

function shortName(n: string): string {
  return n.includes('.') ? n.slice(n.lastIndexOf('.') + 1) : n;
}

/** Kind of a schema: a primitive name, 'union', or the complex type name. Logical types count as their base. */
function kind(s: AvroSchema, reg: Map<string, Named>): { k: string; s: AvroSchema } {
  if (Array.isArray(s)) return { k: 'union', s };
  if (typeof s === 'string') {
    if (PRIMITIVES.has(s)) return { k: s, s };
    const named = reg.get(s) ?? reg.get(shortName(s));
    if (named === undefined) throw new Error(`unknown type name ${s}`);
    return { k: named.type, s: named };
  }
  const t = (s as Named).type;
  if (typeof t === 'string' && PRIMITIVES.has(t)) return { k: t, s: t };
  if (typeof t === 'object') return kind(t as AvroSchema, reg);
  return { k: t, s };
}

/** Can `reader` read every datum written with `writer`? The first failure names a path such as `Event.revenue`. */
export function canRead(reader: AvroSchema, writer: AvroSchema): ReadCheck {
  const rr = new Map<string, Named>();
  const wr = new Map<string, Named>();
  names(reader, undefined, rr);
  names(writer, undefined, wr);
  return check(reader, writer, rr, wr, '', new Set());
}

function fail(path: string, reason: string): ReadCheck {
  return { ok: false, path: path || '(root)', reason };
}

function check(
  r0: AvroSchema,
  w0: AvroSchema,
  rr: Map<string, Named>,
  wr: Map<string, Named>,
  path: string,
  seen: Set<string>,
): ReadCheck {
  const r = kind(r0, rr);
  const w = kind(w0, wr);
  // Writer union: every branch the writer may have chosen must be readable (schema level: any branch may occur).
  if (w.k === 'union') {
    for (const [i, branch] of (w.s as AvroSchema[]).entries()) {
      const c = check(r.s, branch, rr, wr, `${path}[writer branch ${i}]`, seen);
      if (!c.ok) return c;
    }
    return { ok: true };
  }
  // Reader union, writer not: some reader branch must match (the first that does is used).
  if (r.k === 'union') {
    for (const branch of r.s as AvroSchema[]) if (check(branch, w.s, rr, wr, path, seen).ok) return { ok: true };
    return fail(path, `no branch of the reader's union reads the writer's ${w.k}`);
  }
  if (PRIMITIVES.has(w.k)) {
    if (r.k === w.k || PROMOTIONS[w.k]?.includes(r.k)) return { ok: true };
    return fail(path, `a ${r.k} cannot read a ${w.k}`);
  }
  if (r.k !== w.k) return fail(path, `a ${r.k} cannot read a ${w.k}`);
  const rs = r.s as Named;
  const ws = w.s as Named;
  const sameName = (): boolean => {
    const wn = shortName(String(ws.name));
    const aliases = ((rs.aliases as string[] | undefined) ?? []).map(shortName);
    return shortName(String(rs.name)) === wn || aliases.includes(wn);
  };
  switch (r.k) {
    case 'array':
      return check(rs.items as AvroSchema, ws.items as AvroSchema, rr, wr, `${path}[]`, seen);
    case 'map':
      return check(rs.values as AvroSchema, ws.values as AvroSchema, rr, wr, `${path}{}`, seen);
    case 'fixed':
      if (!sameName()) return fail(path, `fixed ${String(rs.name)} cannot read fixed ${String(ws.name)}`);
      return rs.size === ws.size ? { ok: true } : fail(path, `fixed sizes differ (${rs.size} vs ${ws.size})`);
    case 'enum': {
      if (!sameName()) return fail(path, `enum ${String(rs.name)} cannot read enum ${String(ws.name)}`);
      const symbols = rs.symbols as string[];
      const missing = (ws.symbols as string[]).filter((s) => !symbols.includes(s));
      if (missing.length === 0 || rs.default !== undefined) return { ok: true };
      return fail(path, `writer symbol ${missing.join(', ')} unknown to the reader, which has no enum default`);
    }
    case 'record':
    case 'error': {
      if (!sameName()) return fail(path, `record ${String(rs.name)} cannot read record ${String(ws.name)}`);
      const key = `${String(rs.name)}<${String(ws.name)}`;
      if (seen.has(key)) return { ok: true }; // recursive types: assume the cycle holds, as Java's checker does
      const inner = new Set(seen).add(key);
      const wfields = ws.fields as { name: string; type: AvroSchema }[];
      const here = path || shortName(String(rs.name));
      for (const f of rs.fields as { name: string; type: AvroSchema; default?: unknown; aliases?: string[] }[]) {
        const candidates = [f.name, ...(f.aliases ?? [])];
        const matches = wfields.filter((wf) => candidates.includes(wf.name));
        if (matches.length > 1)
          return fail(`${here}.${f.name}`, 'ambiguous: several writer fields match its name and aliases');
        const wf = matches[0];
        if (wf === undefined) {
          if (f.default === undefined) return fail(`${here}.${f.name}`, 'missing in the writer and has no default');
          continue;
        }
        const c = check(f.type, wf.type, rr, wr, `${here}.${f.name}`, inner);
        if (!c.ok) return c;
      }
      return { ok: true };
    }
    default:
      return fail(path, `unsupported type ${r.k}`);
  }
}

/** Labels of the newest schema of `history` (oldest first) under every mode, as a registry should decide them. */
export function compatibilityLabels(history: readonly AvroSchema[]): CompatibilityLabels {
  const latest = history[history.length - 1];
  const earlier = history.slice(0, -1);
  if (latest === undefined || earlier.length === 0) {
    throw new RangeError('compatibilityLabels: need at least two schemas (the first registration is always accepted)');
  }
  const prev = earlier[earlier.length - 1]!;
  const backward = canRead(latest, prev).ok;
  const forward = canRead(prev, latest).ok;
  const backwardT = earlier.every((s) => canRead(latest, s).ok);
  const forwardT = earlier.every((s) => canRead(s, latest).ok);
  return {
    BACKWARD: backward,
    BACKWARD_TRANSITIVE: backwardT,
    FORWARD: forward,
    FORWARD_TRANSITIVE: forwardT,
    FULL: backward && forward,
    FULL_TRANSITIVE: backwardT && forwardT,
  };
}
