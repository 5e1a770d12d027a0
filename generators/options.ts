/**
 * Option validation for every generator: options are plain data, resolved against documented defaults and validated
 * once, when the generator is built (never per event). Errors name the path of the bad option, as scenario errors do:
 * `traffic.users: expected an integer in [1, 10000000], got 0`.
 */

import { StreamproofError } from '../harness/util/errors.ts';

/**
 * A bad generator option: StreamproofError `invalid-option` (exit 64), the message naming the path, details keeping
 * the path and what was expected.
 */
export function optionError(path: string, expected: string, got: unknown): StreamproofError {
  return StreamproofError.at('invalid-option', `expected ${expected}, got ${describe(got)}`, {
    path,
    details: { expected },
  });
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  try {
    return JSON.stringify(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}

/** Rejects keys the caller did not mean (a typo such as `user` for `users` would otherwise be silently ignored). */
export function checkKeys(path: string, options: object, allowed: readonly string[]): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw optionError(path, 'an options object', options);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) throw optionError(`${path}.${key}`, `one of ${allowed.join(', ')}`, key);
  }
}

export function intOption(path: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw optionError(path, `an integer in [${min}, ${max}]`, value);
  }
  return value;
}

export function probabilityOption(path: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw optionError(path, 'a probability in [0, 1]', value);
  }
  return value;
}

export function oneOfOption<T>(path: string, value: unknown, fallback: T, allowed: readonly T[]): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) throw optionError(path, `one of ${allowed.map(describe).join(', ')}`, value);
  return value as T;
}

/**
 * Weights by name, e.g. `{ impression: 80, click: 17, conversion: 3 }`: any non-negative finite numbers with a
 * positive sum (they are normalised). Missing names keep their default weight.
 */
export function weightsOption<K extends string>(
  path: string,
  value: unknown,
  names: readonly K[],
  fallback: Readonly<Record<K, number>>,
): Record<K, number> {
  if (value === undefined) return { ...fallback };
  if (typeof value !== 'object' || value === null) throw optionError(path, 'an object of weights', value);
  checkKeys(path, value, names);
  const out: Record<K, number> = { ...fallback };
  for (const name of names) {
    const w = (value as Record<string, unknown>)[name];
    if (w === undefined) continue;
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) {
      throw optionError(`${path}.${name}`, 'a finite non-negative weight', w);
    }
    out[name] = w;
  }
  if (names.reduce((s, n) => s + out[n], 0) <= 0) throw optionError(path, 'weights with a positive sum', value);
  return out;
}
