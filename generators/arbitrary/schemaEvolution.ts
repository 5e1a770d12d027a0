/**
 * `schemaEvolution()`: a history of schema changes starting from the v1 event schema, each step labelled with the
 * compatibility a registry SHOULD decide for it under BACKWARD, FORWARD, FULL and their _TRANSITIVE forms.
 *
 * Model: fast-check draws a list of change *intents* (a kind and a few picks); a fold applies each to the current
 * schema. An intent that does not apply (no int field to promote, no defaulted field to remove) is skipped, so every
 * shrink of the list is still a valid history. Labels come from `compatibility.ts` (the Avro specification's
 * resolution rules), never from the change kind alone: the transitive ones depend on the whole history, and even the
 * direct ones depend on details (widening ['null','double'] with 'long' stays FORWARD compatible, since a long
 * promotes to double; widening it with 'string' does not). Labels assume every earlier schema is registered.
 */
import fc from 'fast-check';
import { type CompatibilityLabels, compatibilityLabels } from '../compatibility.ts';
import { checkKeys, intOption, optionError } from '../options.ts';
import { type AvroField, type AvroRecordSchema, type AvroSchema, eventSchema } from '../schemas.ts';

export const SCHEMA_CHANGE_KINDS = [
  'add-field-with-default',
  'add-field-without-default',
  'remove-field-with-default',
  'remove-field-without-default',
  'rename-field-with-alias',
  'promote-int-to-long',
  'add-enum-symbol',
  'widen-union',
] as const;
export type SchemaChangeKind = (typeof SCHEMA_CHANGE_KINDS)[number];

export interface SchemaChange {
  kind: SchemaChangeKind;
  /** The field changed (its name before the change). */
  field: string;
  /** Human-readable, e.g. `widen revenue: ["null","double"] -> ["null","double","string"]`. */
  description: string;
}

export interface SchemaEvolutionStep {
  change: SchemaChange;
  /** The schema after the change. */
  schema: AvroRecordSchema;
  /** What registering `schema` should give under each mode, given every earlier schema is registered. */
  compatibility: CompatibilityLabels;
}

export interface SchemaEvolution {
  base: AvroRecordSchema;
  steps: SchemaEvolutionStep[];
}

export interface SchemaEvolutionConstraints {
  /** Change kinds to draw from. Default all of SCHEMA_CHANGE_KINDS. */
  kinds?: readonly SchemaChangeKind[];
  /** Fewest change intents. Default 1. (Intents that do not apply are skipped, so steps may be fewer.) */
  minSteps?: number;
  /** Most change intents. Default 6. */
  maxSteps?: number;
  /** The starting schema. Default the v1 event schema. */
  base?: AvroRecordSchema;
}

/** Types an added field may have, with the default used when it gets one. */
const ADDABLE: readonly { type: AvroSchema; default: unknown }[] = [
  { type: 'int', default: 0 },
  { type: 'long', default: 0 },
  { type: 'string', default: '' },
  { type: 'boolean', default: false },
  { type: 'double', default: 0 },
  { type: ['null', 'string'], default: null },
];
const WIDEN_WITH = ['string', 'long', 'boolean', 'bytes', 'int', 'double', 'float'] as const;

interface Intent {
  kind: SchemaChangeKind;
  pick: number;
  typePick: number;
}

export function schemaEvolution(constraints: SchemaEvolutionConstraints = {}): fc.Arbitrary<SchemaEvolution> {
  const path = 'schemaEvolution';
  checkKeys(path, constraints, ['kinds', 'minSteps', 'maxSteps', 'base']);
  const kinds = constraints.kinds ?? SCHEMA_CHANGE_KINDS;
  if (!Array.isArray(kinds) || kinds.length === 0 || kinds.some((k) => !SCHEMA_CHANGE_KINDS.includes(k))) {
    throw optionError(`${path}.kinds`, `a non-empty list of ${SCHEMA_CHANGE_KINDS.join(', ')}`, kinds);
  }
  const minSteps = intOption(`${path}.minSteps`, constraints.minSteps, 1, 0, 1000);
  const maxSteps = intOption(`${path}.maxSteps`, constraints.maxSteps, Math.max(6, minSteps), minSteps, 1000);
  const base = structuredClone(constraints.base ?? eventSchema(1));
  if (base.type !== 'record' || !Array.isArray(base.fields)) {
    throw optionError(`${path}.base`, 'an Avro record schema', base);
  }
  const intent = fc.record({
    kind: fc.constantFrom(...kinds),
    pick: fc.nat({ max: 1000 }),
    typePick: fc.nat({ max: 1000 }),
  });
  return fc.array(intent, { minLength: minSteps, maxLength: maxSteps }).map((intents) => evolve(base, intents));
}

/** Applies intents in order; exported for the regression tests, which replay hand-written histories. */
export function evolve(base: AvroRecordSchema, intents: readonly Intent[]): SchemaEvolution {
  const history: AvroRecordSchema[] = [structuredClone(base)];
  const steps: SchemaEvolutionStep[] = [];
  let counter = 0;
  for (const it of intents) {
    const current = history[history.length - 1]!;
    const next = structuredClone(current);
    counter++;
    const change = apply(next, it, counter);
    if (change === undefined) continue;
    history.push(next);
    steps.push({ change, schema: next, compatibility: compatibilityLabels(history) });
  }
  return { base: structuredClone(base), steps };
}

function fieldType(f: AvroField): AvroSchema {
  return f.type;
}

function isEnum(t: AvroSchema): t is { type: 'enum'; symbols: string[]; name: string } {
  return typeof t === 'object' && !Array.isArray(t) && t.type === 'enum';
}

function primitiveName(t: AvroSchema): string | undefined {
  if (typeof t === 'string') return t;
  if (typeof t !== 'object' || Array.isArray(t)) return undefined;
  const o = t as { type?: unknown; logicalType?: unknown };
  return typeof o.type === 'string' && o.logicalType !== undefined ? o.type : undefined;
}

function apply(s: AvroRecordSchema, it: Intent, n: number): SchemaChange | undefined {
  const pickFrom = <T>(xs: T[]): T | undefined => (xs.length === 0 ? undefined : xs[it.pick % xs.length]);
  switch (it.kind) {
    case 'add-field-with-default':
    case 'add-field-without-default': {
      const t = ADDABLE[it.typePick % ADDABLE.length]!;
      const name = `x${n}`;
      const withDefault = it.kind === 'add-field-with-default';
      s.fields.push(
        withDefault
          ? { name, type: structuredClone(t.type), default: t.default }
          : { name, type: structuredClone(t.type) },
      );
      return {
        kind: it.kind,
        field: name,
        description: `add ${name}: ${JSON.stringify(t.type)}${withDefault ? ` = ${JSON.stringify(t.default)}` : ''}`,
      };
    }
    case 'remove-field-with-default':
    case 'remove-field-without-default': {
      const withDefault = it.kind === 'remove-field-with-default';
      const f = pickFrom(s.fields.filter((x) => (x.default !== undefined) === withDefault));
      if (f === undefined) return undefined;
      s.fields = s.fields.filter((x) => x !== f);
      return { kind: it.kind, field: f.name, description: `remove ${f.name}` };
    }
    case 'rename-field-with-alias': {
      const f = pickFrom(s.fields);
      if (f === undefined) return undefined;
      const old = f.name;
      f.aliases = [old, ...(f.aliases ?? [])];
      f.name = `${old.replace(/_r[0-9]+$/, '')}_r${n}`;
      return {
        kind: it.kind,
        field: old,
        description: `rename ${old} -> ${f.name} (aliases ${JSON.stringify(f.aliases)})`,
      };
    }
    case 'promote-int-to-long': {
      const f = pickFrom(s.fields.filter((x) => fieldType(x) === 'int'));
      if (f === undefined) return undefined;
      f.type = 'long';
      return { kind: it.kind, field: f.name, description: `promote ${f.name}: int -> long` };
    }
    case 'add-enum-symbol': {
      const f = pickFrom(s.fields.filter((x) => isEnum(x.type)));
      if (f === undefined) return undefined;
      const e = f.type as { symbols: string[]; name: string };
      const symbol = `S${n}`;
      e.symbols.push(symbol);
      return { kind: it.kind, field: f.name, description: `add symbol ${symbol} to enum ${e.name} of ${f.name}` };
    }
    case 'widen-union': {
      const f = pickFrom(s.fields);
      if (f === undefined) return undefined;
      const before = structuredClone(f.type);
      const branches: AvroSchema[] = Array.isArray(f.type) ? [...f.type] : [f.type];
      const present = new Set(branches.map((b) => primitiveName(b)).filter((x) => x !== undefined));
      const candidates = WIDEN_WITH.filter((w) => !present.has(w));
      // Nested unions are not Avro; a named type in the union would need a unique name: widen with primitives only.
      if (candidates.length === 0) return undefined;
      const extra = candidates[it.typePick % candidates.length]!;
      f.type = [...branches, extra];
      return {
        kind: it.kind,
        field: f.name,
        description: `widen ${f.name}: ${JSON.stringify(before)} -> ${JSON.stringify(f.type)}`,
      };
    }
  }
}
