import { describe, expect, it } from 'vitest';
import { AttributionModelError } from './errors.ts';
import { DEFAULT_OPTIONS, resolveOptions } from './options.ts';

function errorOf(options: unknown): AttributionModelError {
  try {
    resolveOptions(options as never);
  } catch (e) {
    if (e instanceof AttributionModelError) return e;
    throw e;
  }
  throw new Error('expected resolveOptions to throw');
}

describe('resolveOptions', () => {
  it('fills in the documented defaults', () => {
    expect({ ...resolveOptions() }).toMatchObject({
      lookbackMs: 2_592_000_000,
      halfLifeMs: 604_800_000,
      touchTypes: ['impression', 'click'],
      maxTouches: 100,
      allowedLatenessMs: 86_400_000,
      models: ['last-touch', 'first-touch', 'linear', 'time-decay', 'position-based'],
    });
    expect(resolveOptions().currencyExponents.JPY).toBe(0);
    expect(DEFAULT_OPTIONS.maxTouches).toBe(100);
  });

  it('is idempotent and puts lists in canonical order', () => {
    const once = resolveOptions({ models: ['linear', 'last-touch'], touchTypes: ['click', 'impression'] });
    expect(once.models).toEqual(['last-touch', 'linear']);
    expect(once.touchTypes).toEqual(['impression', 'click']);
    expect(resolveOptions(once)).toEqual(once);
  });

  it('merges currency exponents over the built-in table', () => {
    const o = resolveOptions({ currencyExponents: { XYZ: 1, JPY: 2 } });
    expect(o.currencyExponents.XYZ).toBe(1);
    expect(o.currencyExponents.JPY).toBe(2);
    expect(o.currencyExponents.KWD).toBe(3);
  });

  const bad: [unknown, string][] = [
    [{ lookbackMs: -1 }, 'options.lookbackMs'],
    [{ lookbackMs: '30d' }, 'options.lookbackMs'],
    [{ halfLifeMs: 0 }, 'options.halfLifeMs'],
    [{ maxTouches: 0 }, 'options.maxTouches'],
    [{ maxTouches: 2.5 }, 'options.maxTouches'],
    [{ allowedLatenessMs: Number.NaN }, 'options.allowedLatenessMs'],
    [{ touchTypes: [] }, 'options.touchTypes'],
    [{ touchTypes: ['click', 'conversion'] }, 'options.touchTypes[1]'],
    [{ models: ['linear', 'linear'] }, 'options.models[1]'],
    [{ currencyExponents: { usd: 2 } }, 'options.currencyExponents.usd'],
    [{ currencyExponents: { USD: 9 } }, 'options.currencyExponents.USD'],
    [{ lookback: 5 }, 'options.lookback'],
    [[], 'options'],
  ];
  for (const [options, path] of bad) {
    it(`names ${path} in the error for ${JSON.stringify(options)}`, () => {
      const error = errorOf(options);
      expect(error.code).toBe('MODEL_INVALID_OPTION');
      expect(error.path).toBe(path);
      expect(error.message.startsWith(`${path}: `)).toBe(true);
      expect(JSON.parse(JSON.stringify(error))).toMatchObject({ code: 'MODEL_INVALID_OPTION', path });
    });
  }
});
