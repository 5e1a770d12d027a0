/**
 * Tiny validators for plain-data options: each names the path of what is wrong and what was expected, and throws
 * StreamproofError('INVALID_SCENARIO') (exit 64). Objects are closed: an unknown field is an error, since a typo in a
 * scenario ("lantecyMs") must not silently run the wrong test.
 */
import { StreamproofError } from '../util/errors.ts';

export function fail(path: string, expected: string, got: unknown): never {
  throw new StreamproofError('INVALID_SCENARIO', `${path}: expected ${expected}, got ${describe(got)}`, { path });
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

export function obj(v: unknown, path: string, allowed: readonly string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, 'an object', v);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) {
      throw new StreamproofError('INVALID_SCENARIO', `${path}.${k}: unknown field (known: ${allowed.join(', ')})`, {
        path: `${path}.${k}`,
      });
    }
  }
  return o;
}

export function str(
  v: unknown,
  path: string,
  opts: { optional?: boolean; oneOf?: readonly string[]; pattern?: RegExp } = {},
): string {
  if (v === undefined && opts.optional) return undefined as unknown as string;
  if (typeof v !== 'string' || v.length === 0)
    fail(path, opts.oneOf ? `one of ${opts.oneOf.map((s) => `"${s}"`).join(', ')}` : 'a non-empty string', v);
  if (opts.oneOf && !opts.oneOf.includes(v)) fail(path, `one of ${opts.oneOf.map((s) => `"${s}"`).join(', ')}`, v);
  if (opts.pattern && !opts.pattern.test(v)) fail(path, `a string matching ${opts.pattern}`, v);
  return v;
}

export function int(
  v: unknown,
  path: string,
  opts: { min?: number; max?: number; def?: number; oneOf?: readonly number[] } = {},
): number {
  if (v === undefined && opts.def !== undefined) return opts.def;
  const ok =
    typeof v === 'number' &&
    Number.isInteger(v) &&
    (opts.min === undefined || v >= opts.min) &&
    (opts.max === undefined || v <= opts.max) &&
    (opts.oneOf === undefined || opts.oneOf.includes(v));
  if (!ok) {
    const want = opts.oneOf
      ? `one of ${opts.oneOf.join(', ')}`
      : `an integer${opts.min !== undefined ? ` >= ${opts.min}` : ''}${opts.max !== undefined ? ` and <= ${opts.max}` : ''}`;
    fail(path, want, v);
  }
  return v as number;
}

export function num(
  v: unknown,
  path: string,
  opts: { min?: number; max?: number; def?: number; exclusiveMin?: boolean } = {},
): number {
  if (v === undefined && opts.def !== undefined) return opts.def;
  const ok =
    typeof v === 'number' &&
    Number.isFinite(v) &&
    (opts.min === undefined || (opts.exclusiveMin ? v > opts.min : v >= opts.min)) &&
    (opts.max === undefined || v <= opts.max);
  if (!ok)
    fail(
      path,
      `a number${opts.min !== undefined ? (opts.exclusiveMin ? ` > ${opts.min}` : ` >= ${opts.min}`) : ''}${opts.max !== undefined ? ` and <= ${opts.max}` : ''}`,
      v,
    );
  return v as number;
}

export function bool(v: unknown, path: string, def: boolean): boolean {
  if (v === undefined) return def;
  if (typeof v !== 'boolean') fail(path, 'true or false', v);
  return v;
}

export function arr(v: unknown, path: string, opts: { optional?: boolean } = {}): unknown[] {
  if (v === undefined && opts.optional) return [];
  if (!Array.isArray(v)) fail(path, 'an array', v);
  return v;
}
