/**
 * Options of the attribution model: all optional with documented defaults, read and validated once by
 * `resolveOptions` (fast-check's `QualifiedParameters.read` pattern). The stream processor and the checker must run
 * the model with the same resolved options, or their outputs legitimately differ; resolving once also keeps the
 * per-event path free of validation.
 */

import { AttributionModelError } from './errors.ts';
import { ATTRIBUTION_MODELS, type AttributionModel, TOUCH_TYPES, type TouchType } from './types.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface AttributionOptions {
  /** How far before a conversion (in event time) a touch may be and still be credited. Default 30 days. */
  readonly lookbackMs?: number;
  /** Half-life of the `time-decay` model. Default 7 days. */
  readonly halfLifeMs?: number;
  /** Which event types are touchpoints. Default both `impression` and `click`. */
  readonly touchTypes?: readonly TouchType[];
  /**
   * Most touches kept per user; on overflow the oldest (by event time, then user_seq) is dropped. Default 100. Bounds
   * the changelog value size: about 100 bytes a touch.
   */
  readonly maxTouches?: number;
  /**
   * How far behind the user's max event time seen an event may be and still be applied; older events are rejected as
   * `late`. `Infinity` never rejects (state is then bounded only by `maxTouches`). Default 24 hours.
   */
  readonly allowedLatenessMs?: number;
  /** Which models to emit records for. Default all five. Output order is always the canonical one. */
  readonly models?: readonly AttributionModel[];
  /**
   * Minor-unit exponents by ISO 4217 code, merged over the built-in table (e.g. `{ CLF: 4 }`). Unlisted codes use 2.
   */
  readonly currencyExponents?: Readonly<Record<string, number>>;
}

declare const resolved: unique symbol;

/** Options after `resolveOptions`: every field present and valid. Only `resolveOptions` makes one. */
export interface ResolvedAttributionOptions {
  readonly lookbackMs: number;
  readonly halfLifeMs: number;
  readonly touchTypes: readonly TouchType[];
  readonly maxTouches: number;
  readonly allowedLatenessMs: number;
  readonly models: readonly AttributionModel[];
  readonly currencyExponents: Readonly<Record<string, number>>;
  readonly [resolved]: true;
}

export const DEFAULT_OPTIONS = Object.freeze({
  lookbackMs: 30 * DAY_MS,
  halfLifeMs: 7 * DAY_MS,
  touchTypes: Object.freeze(['impression', 'click'] as const),
  maxTouches: 100,
  allowedLatenessMs: DAY_MS,
  models: ATTRIBUTION_MODELS,
  currencyExponents: Object.freeze({}),
});

/**
 * ISO 4217 minor-unit exponents that differ from 2. A currency's exponent decides what "a cent" is when revenue is
 * split with largest remainders, so a yen amount is never split into fractions of a yen.
 */
export const BUILTIN_CURRENCY_EXPONENTS: Readonly<Record<string, number>> = Object.freeze({
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  ISK: 0,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  PYG: 0,
  RWF: 0,
  UGX: 0,
  UYI: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
  BHD: 3,
  IQD: 3,
  JOD: 3,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  TND: 3,
  CLF: 4,
  UYW: 4,
});

export const CURRENCY_CODE = /^[A-Z]{3}$/;

const KNOWN_KEYS = new Set(Object.keys(DEFAULT_OPTIONS));

function fail(path: string, message: string): never {
  throw new AttributionModelError('MODEL_INVALID_OPTION', message, { path });
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) {
    return String(value);
  }
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

function readInteger(
  path: string,
  value: unknown,
  fallback: number,
  min: number,
  what: string,
  allowInfinity = false,
): number {
  if (value === undefined) return fallback;
  if (allowInfinity && value === Number.POSITIVE_INFINITY) return value;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    fail(path, `expected ${what}, got ${show(value)}`);
  }
  // `+ 0` turns -0 into 0 so resolved options print and compare plainly.
  return value + 0;
}

function readSubset<T extends string>(
  path: string,
  value: unknown,
  fallback: readonly T[],
  universe: readonly T[],
): readonly T[] {
  if (value === undefined) return fallback;
  if (!Array.isArray(value) || value.length === 0) {
    fail(path, `expected a non-empty array of ${universe.map((u) => `"${u}"`).join(', ')}, got ${show(value)}`);
  }
  const seen = new Set<T>();
  value.forEach((item: unknown, index) => {
    if (!universe.includes(item as T)) {
      fail(`${path}[${index}]`, `expected one of ${universe.map((u) => `"${u}"`).join(', ')}, got ${show(item)}`);
    }
    if (seen.has(item as T)) fail(`${path}[${index}]`, `${show(item)} is listed twice`);
    seen.add(item as T);
  });
  // Canonical order, so two option objects that mean the same thing resolve to equal values.
  return Object.freeze(universe.filter((u) => seen.has(u)));
}

function readExponents(path: string, value: unknown): Readonly<Record<string, number>> {
  if (value === undefined) return BUILTIN_CURRENCY_EXPONENTS;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(path, `expected an object mapping ISO 4217 codes to exponents, got ${show(value)}`);
  }
  const merged: Record<string, number> = { ...BUILTIN_CURRENCY_EXPONENTS };
  for (const [code, exponent] of Object.entries(value)) {
    if (!CURRENCY_CODE.test(code)) fail(`${path}.${code}`, 'expected a three-letter upper-case ISO 4217 code');
    if (typeof exponent !== 'number' || !Number.isInteger(exponent) || exponent < 0 || exponent > 6) {
      fail(`${path}.${code}`, `expected an integer exponent from 0 to 6, got ${show(exponent)}`);
    }
    merged[code] = exponent;
  }
  return Object.freeze(merged);
}

/**
 * Validates `options` and fills in defaults. Throws `AttributionModelError` (`MODEL_INVALID_OPTION`) whose `path`
 * names the bad field. Idempotent: resolving resolved options returns equal options.
 */
export function resolveOptions(
  options: AttributionOptions | ResolvedAttributionOptions = {},
): ResolvedAttributionOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    fail('options', `expected an object, got ${show(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_KEYS.has(key)) fail(`options.${key}`, `unknown option (known: ${[...KNOWN_KEYS].join(', ')})`);
  }
  const o = options as Record<string, unknown>;
  const result = {
    lookbackMs: readInteger(
      'options.lookbackMs',
      o.lookbackMs,
      DEFAULT_OPTIONS.lookbackMs,
      0,
      'a whole number of milliseconds >= 0',
    ),
    halfLifeMs: readInteger(
      'options.halfLifeMs',
      o.halfLifeMs,
      DEFAULT_OPTIONS.halfLifeMs,
      1,
      'a whole number of milliseconds >= 1',
    ),
    touchTypes: readSubset('options.touchTypes', o.touchTypes, DEFAULT_OPTIONS.touchTypes, TOUCH_TYPES),
    maxTouches: readInteger('options.maxTouches', o.maxTouches, DEFAULT_OPTIONS.maxTouches, 1, 'an integer >= 1'),
    allowedLatenessMs: readInteger(
      'options.allowedLatenessMs',
      o.allowedLatenessMs,
      DEFAULT_OPTIONS.allowedLatenessMs,
      0,
      'a whole number of milliseconds >= 0, or Infinity',
      true,
    ),
    models: readSubset('options.models', o.models, DEFAULT_OPTIONS.models, ATTRIBUTION_MODELS),
    currencyExponents: readExponents('options.currencyExponents', o.currencyExponents),
  };
  return Object.freeze(result) as ResolvedAttributionOptions;
}
