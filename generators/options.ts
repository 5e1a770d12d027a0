/**
 * Option validation for every generator: options are plain data, resolved against documented defaults and validated
 * once, when the generator is built (never per event). Errors name the path of the bad option, as scenario errors do:
 * `traffic.users: expected an integer in [1, 10000000], got 0`.
 */

export const GENERATOR_ERROR_CODES = ['invalid-option'] as const;
export type GeneratorErrorCode = (typeof GENERATOR_ERROR_CODES)[number];

export class GeneratorOptionError extends Error {
  override readonly name = 'GeneratorOptionError';
  readonly code: GeneratorErrorCode = 'invalid-option';
  constructor(
    readonly path: string,
    readonly expected: string,
    readonly got: unknown,
  ) {
    super(`${path}: expected ${expected}, got ${describe(got)}`);
  }
  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, path: this.path, expected: this.expected, message: this.message };
  }
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
    throw new GeneratorOptionError(path, 'an options object', options);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) throw new GeneratorOptionError(`${path}.${key}`, `one of ${allowed.join(', ')}`, key);
  }
}

export function intOption(path: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new GeneratorOptionError(path, `an integer in [${min}, ${max}]`, value);
  }
  return value;
}

export function probabilityOption(path: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new GeneratorOptionError(path, 'a probability in [0, 1]', value);
  }
  return value;
}

export function oneOfOption<T>(path: string, value: unknown, fallback: T, allowed: readonly T[]): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T))
    throw new GeneratorOptionError(path, `one of ${allowed.map(describe).join(', ')}`, value);
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
  if (typeof value !== 'object' || value === null) throw new GeneratorOptionError(path, 'an object of weights', value);
  checkKeys(path, value, names);
  const out: Record<K, number> = { ...fallback };
  for (const name of names) {
    const w = (value as Record<string, unknown>)[name];
    if (w === undefined) continue;
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) {
      throw new GeneratorOptionError(`${path}.${name}`, 'a finite non-negative weight', w);
    }
    out[name] = w;
  }
  if (names.reduce((s, n) => s + out[n], 0) <= 0)
    throw new GeneratorOptionError(path, 'weights with a positive sum', value);
  return out;
}
