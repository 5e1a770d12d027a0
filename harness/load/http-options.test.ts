import { describe, expect, it } from 'vitest';
import type { History } from '../history/index.ts';
import { validateScenario } from '../runner/scenario.ts';
import { type HttpLoadOptions, resolveHttpLoadOptions } from './http-options.ts';

function recorder() {
  const history = { record: () => {} } as unknown as History;
  return { history };
}

describe('resolveHttpLoadOptions', () => {
  const { history } = recorder();
  const base: HttpLoadOptions = { url: 'http://127.0.0.1:1/v1/events', history, rate: 10, duration: '1s' };

  it('names the bad option', () => {
    expect(() => resolveHttpLoadOptions({ ...base, batch: 0 })).toThrow(/load\.batch/);
    expect(() => resolveHttpLoadOptions({ ...base, url: 'http://example.com/x' })).toThrow(/load\.url.*127\.0\.0\.1/);
    expect(() => resolveHttpLoadOptions({ ...base, url: 'nope' })).toThrow(/load\.url/);
    expect(() => resolveHttpLoadOptions({ ...base, duration: undefined })).toThrow(/load\.duration/);
    expect(() => resolveHttpLoadOptions({ ...base, generator: { format: 'avro' } as never })).toThrow(
      /load\.generator\.format/,
    );
    expect(() => resolveHttpLoadOptions({ ...base, connections: 1000 })).toThrow(/load\.connections/);
    expect(() => resolveHttpLoadOptions({ ...base, timeoutMs: 500 })).toThrow(/load\.timeoutMs/);
  });
});

describe('scenario load.via "http"', () => {
  const base = {
    name: 't',
    sut: { command: 'reference', contract: 'attribution' },
    load: { rate: 10, duration: '1s' },
  };
  const v = (load: Record<string, unknown>, sut: Record<string, unknown> = base.sut) =>
    validateScenario({ ...base, sut, load: { ...base.load, ...load } });

  it('defaults: kafka load; http with batch 50 and 4 connections against the reference collector', () => {
    expect(v({}).load).toMatchObject({ via: 'kafka', http: undefined });
    expect(v({ via: 'http', token: 'abc' }).load).toMatchObject({
      via: 'http',
      http: { batch: 50, connections: 4, target: undefined, token: 'abc' },
    });
  });

  it('names the field of a bad HTTP load (exit 64: INVALID_SCENARIO)', () => {
    const copy = { command: 'node x.js', contract: 'copy' };
    const cases: [Record<string, unknown>, RegExp, Record<string, unknown>?][] = [
      [{ via: 'udp' }, /scenario\.load\.via: expected one of "kafka", "http"/],
      [{ batch: 10 }, /scenario\.load\.batch: expected nothing unless load\.via is "http"/],
      [{ via: 'http', batch: 0 }, /scenario\.load\.batch/],
      [{ via: 'http', connections: 1000 }, /scenario\.load\.connections/],
      [{ via: 'http', producers: 2 }, /scenario\.load\.producers/],
      [{ via: 'http', acksTimeout: '500ms' }, /scenario\.load\.acksTimeout/],
      [{ via: 'http', target: 'http://example.com/in' }, /scenario\.load\.target: expected an http:\/\/ URL on 127/],
      [{ via: 'http', token: 'has space' }, /scenario\.load\.token/],
      [{ via: 'http' }, /scenario\.load\.via: expected "kafka" unless sut\.command is "reference"/, copy],
    ];
    for (const [load, re, sut] of cases) {
      let err: unknown;
      try {
        v(load, sut);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(load)).toMatchObject({ code: 'INVALID_SCENARIO' });
      expect((err as Error).message).toMatch(re);
    }
    expect(v({ via: 'http', target: 'http://127.0.0.1:9/in' }, copy).load.http?.target).toBe('http://127.0.0.1:9/in');
  });
});
