/**
 * Values of an avsc type drawn from a seeded PRNG, for compatibility checks that write data with one schema and
 * read it with another (avsc's own `Type.random()` uses the global random source and would not replay).
 * Types are built with `wrapUnions: true`, so union values are `{ branch: value }`.
 */
import type avro from 'avsc';
import type { Sfc32 } from './prng.ts';

export function sampleAvroValue(type: avro.Type, rng: Sfc32): unknown {
  const t = type as avro.Type & {
    types?: avro.Type[];
    symbols?: string[];
    fields?: { name: string; type: avro.Type }[];
    branchName?: string;
  };
  const u = rng.u32();
  switch (type.typeName) {
    case 'null':
      return null;
    case 'boolean':
      return (u & 1) === 1;
    case 'int':
      return (u | 0) >> 8;
    case 'long':
      return u * 100;
    case 'float':
      return Math.fround(u / 7);
    case 'double':
      return u / 3;
    case 'string':
      return `s${u % 1000}`;
    case 'bytes':
      return Buffer.from([u & 0xff, (u >>> 8) & 0xff]);
    case 'enum':
      return t.symbols![u % t.symbols!.length];
    case 'record': {
      const o: Record<string, unknown> = {};
      for (const f of t.fields!) o[f.name] = sampleAvroValue(f.type, rng);
      return o;
    }
    case 'union:wrapped': {
      const b = t.types![u % t.types!.length]!;
      return b.typeName === 'null' ? null : { [b.branchName!]: sampleAvroValue(b, rng) };
    }
    default:
      throw new Error(`sampleAvroValue: unsupported ${type.typeName}`);
  }
}
