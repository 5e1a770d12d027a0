import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ev, judge, landed, rec } from '../../test/fixtures/models/support.ts';
import { checkLatency } from '../checkers/index.ts';
import { History } from '../history/index.ts';
import { StreamproofError } from '../util/errors.ts';
import { createModelContract, defaultDecode } from './model.ts';
import { validateModelContract } from './model-load.ts';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, '../../test/fixtures/models');
const examples = join(here, '../../examples/models');

async function rejects(model: string): Promise<StreamproofError> {
  const err = await createModelContract({ model }, { baseDir: fixtures }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(StreamproofError);
  return err as StreamproofError;
}

describe('model contract: loading', () => {
  it('validateModelContract takes { model: path } only', () => {
    expect(validateModelContract({ model: './m.ts' }, 'scenario.sut.contract')).toEqual({ model: './m.ts' });
    expect(() => validateModelContract({ model: '' }, 'scenario.sut.contract')).toThrow(
      /^scenario\.sut\.contract\.model: /,
    );
    expect(() => validateModelContract({ model: './m.ts', x: 1 })).toThrow(/sut\.contract\.x: unknown field/);
    expect(() => validateModelContract('copy')).toThrow(/^sut\.contract: expected/);
  });
  it.each([
    ['missing.ts', /no such file/],
    ['both.ts', /exactly one of step/],
    ['neither.ts', /exactly one of step/],
    ['no-default.ts', /no default export/],
    ['import-throws.ts', /import failed: model module exploded on import/],
    ['sequence-final.ts', /"sequence" needs step/],
  ])('%s is bad input (exit 64) naming sut.contract.model', async (file, message) => {
    const err = await rejects(`./${file}`);
    expect(err.code).toBe('MODEL_INVALID');
    expect(err.exit).toBe(64);
    expect(err.message).toMatch(/^sut\.contract\.model: /);
    expect(err.message).toMatch(message);
  });
  it('a model that throws while folding is a harness failure (exit 3) naming the event', async () => {
    const c = await createModelContract({ model: './step-throws.ts' }, { baseDir: fixtures });
    const err = await judge(c, landed([ev(0, 'u0000001', 'click', 0), ev(1, 'u0000001', 'conversion', 1)])).catch(
      (e: unknown) => e as StreamproofError,
    );
    expect(err).toBeInstanceOf(StreamproofError);
    expect((err as StreamproofError).code).toBe('MODEL_FAILED');
    expect((err as StreamproofError).exit).toBe(3);
    expect((err as StreamproofError).message).toMatch(/step threw on event 0-1: cannot fold a conversion/);
  });
});

describe('model contract: judging', () => {
  it('the default decode: key + JSON value ("42" is 42), a lake row as is, bigint cells as numbers', () => {
    expect(defaultDecode(rec('u1', '42'))).toEqual({ key: 'u1', value: 42 });
    expect(defaultDecode({ ...rec('u1', ''), row: { n: 3n } })).toEqual({ key: 'u1', value: { n: 3 } });
    expect(() => defaultDecode(rec(undefined, '1'))).toThrow(/without a key/);
    expect(() => defaultDecode(rec('u1', 'not json'))).toThrow();
  });
  it('clicks-per-user (the example): decimal-string counts pass; unknown sends count as they landed', async () => {
    const c = await createModelContract({ model: 'clicks-per-user.ts' }, { baseDir: examples });
    expect(c.name).toBe('model');
    // offered: three clicks of u1, one of u2, a conversion; the second click of u1 never landed (an unknown send)
    const input = landed([
      ev(0, 'u0000001', 'click', 0),
      ev(2, 'u0000001', 'click', 2),
      ev(3, 'u0000002', 'click', 0),
      ev(4, 'u0000002', 'conversion', 1),
    ]);
    for (const [k, v] of [
      ['u0000001', '1'],
      ['u0000002', '1'],
      ['u0000001', '2'],
    ] as const)
      expect(c.decode(rec(k, v))).toBeNull();
    const { result } = await judge(c, input);
    expect(result).toMatchObject({ valid: true, compare: 'last', counts: { matched: 2, latencySamples: 0 } });
    expect(result.notes?.[0]).toMatch(/latency: not measured/);
  });
  it('clicks-per-user: a wrong last count is a mismatch; unknown with an incomplete drain', async () => {
    const c = await createModelContract({ model: 'clicks-per-user.ts' }, { baseDir: examples });
    c.decode(rec('u0000001', '1'));
    const input = landed([ev(0, 'u0000001', 'click', 0), ev(1, 'u0000001', 'click', 1)]);
    const { result } = await judge(c, input);
    expect(result.anomalyTypes).toEqual(['mismatch']);
    expect(result.mismatch).toEqual([{ key: 'u0000001', expected: 2, observed: 1 }]);
    expect((await judge(c, input, false)).result.valid).toBe('unknown');
    expect(c.anomalies(new History(), { results: {} } as never)).toMatchObject({ mismatch: [{ key: 'u0000001' }] });
  });
  it('a step model: every output in order, latency from the sent_at of the event that produced it', async () => {
    const c = await createModelContract({ model: './step-count.ts' }, { baseDir: fixtures });
    c.decode(rec('u0000001', '1', 2000));
    c.decode(rec('u0000001', '2', 2600));
    const input = landed([ev(0, 'u0000001', 'click', 0, 1000), ev(1, 'u0000001', 'click', 1, 1500)]);
    const { result, history } = await judge(c, input);
    expect(result).toMatchObject({ valid: true, compare: 'sequence', counts: { matched: 2, latencySamples: 2 } });
    const e2e = checkLatency(history).e2e;
    expect(e2e?.count).toBe(2);
    expect(e2e?.maxMs).toBeCloseTo(1100, -1);
    expect(e2e?.minMs).toBeCloseTo(1000, -1);
  });
  it('a step model: a repeated output is duplicated', async () => {
    const c = await createModelContract({ model: './step-count.ts' }, { baseDir: fixtures });
    for (const v of ['1', '1', '2']) c.decode(rec('u0000001', v));
    const input = landed([ev(0, 'u0000001', 'click', 0), ev(1, 'u0000001', 'click', 1)]);
    expect((await judge(c, input)).result.anomalyTypes).toEqual(['duplicated']);
  });
  it('a JavaScript final model with compare once: a second output of a key is duplicated', async () => {
    const c = await createModelContract({ model: './final-plain.mjs' }, { baseDir: fixtures });
    c.decode(rec('u0000002', '1'));
    c.decode(rec('u0000002', '1'));
    const { result } = await judge(c, landed([ev(0, 'u0000002', 'conversion', 0)]));
    expect(result.anomalyTypes).toEqual(['duplicated']);
  });
  it('an undecodable output throws from decode (the runner records it as undecodable)', async () => {
    const c = await createModelContract({ model: './final-plain.mjs' }, { baseDir: fixtures });
    expect(() => c.decode(rec('u1', '{oops'))).toThrow();
  });
  it('a decode that throws on every output is an error of the model: MODEL_FAILED (exit 3) at finish, not undecodable', async () => {
    const c = await createModelContract({ model: './final-plain.mjs' }, { baseDir: fixtures });
    for (const v of ['{oops', 'nope']) expect(() => c.decode(rec('u1', v))).toThrow();
    const err = await judge(c, landed([ev(0, 'u0000002', 'conversion', 0)])).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'MODEL_FAILED' });
    expect((err as Error).message).toMatch(/the decode threw on every one of the 2 output record\(s\)/);
    // One output that decodes is enough: the others are the pipeline's undecodable records.
    const d = await createModelContract({ model: './final-plain.mjs' }, { baseDir: fixtures });
    expect(() => d.decode(rec('u1', '{oops'))).toThrow();
    d.decode(rec('u0000002', '1'));
    expect((await judge(d, landed([ev(0, 'u0000002', 'conversion', 0)]))).result.valid).toBe(true);
  });
  it('the checker before finish is unknown', async () => {
    const c = await createModelContract({ model: './final-plain.mjs' }, { baseDir: fixtures });
    expect(c.checkers()[0]!.check(new History()).valid).toBe('unknown');
  });
});
