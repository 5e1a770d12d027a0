import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { asVersion, event, SCHEMA_VERSIONS } from '../../generators/index.ts';
import { StreamproofError } from '../util/errors.ts';
import { EVENT_FIELDS, latestView, validateLineage, valueAt, whereCount } from './lineage-spec.ts';

const PATH = 'sut.lineage';

/** The StreamproofError `validateLineage` throws for `raw`. */
function refusal(raw: unknown): StreamproofError {
  try {
    validateLineage(raw, PATH);
  } catch (err) {
    expect(err).toBeInstanceOf(StreamproofError);
    return err as StreamproofError;
  }
  throw new Error(`accepted ${JSON.stringify(raw)}`);
}

/** Expects `raw` refused with INVALID_SCENARIO at `path`, the message starting with it and matching `message`. */
function expectRefused(raw: unknown, path: string, message: RegExp): void {
  const err = refusal(raw);
  expect(err.code).toBe('INVALID_SCENARIO');
  expect(err.details).toEqual({ path });
  expect(err.message.startsWith(`${path}: `), err.message).toBe(true);
  expect(err.message).toMatch(message);
}

describe('validateLineage', () => {
  it('accepts the documented block', () => {
    const raw = JSON.parse('{ "id": "field:event_id", "expect": { "where": { "type": ["click", "conversion"] } } }');
    expect(validateLineage(raw, PATH)).toEqual({
      path: PATH,
      id: { kind: 'field', path: ['event_id'], text: 'field:event_id' },
      expect: { kind: 'where', where: [{ field: 'type', path: ['type'], values: ['click', 'conversion'] }] },
    });
  });

  it('accepts each id form, and every expect form', () => {
    expect(validateLineage({ id: 'header:x' }, PATH)).toEqual({
      path: PATH,
      id: { kind: 'header', name: 'x', text: 'header:x' },
      expect: { kind: 'once' },
    });
    expect(validateLineage({ id: 'key' }, PATH).id).toEqual({ kind: 'key', text: 'key' });
    expect(validateLineage({ id: 'field:meta.source.id' }, PATH).id).toEqual({
      kind: 'field',
      path: ['meta', 'source', 'id'],
      text: 'field:meta.source.id',
    });
    for (const module of ['./expected.ts', '../x/expected.mjs', '/abs/expected.js', 'e.cts']) {
      expect(validateLineage({ id: 'key', expect: module }, PATH).expect).toEqual({ kind: 'module', module });
    }
    const where = validateLineage(
      {
        id: 'key',
        expect: {
          where: { 'consent.ads': [true], revenue: [null, 12.5], device: ['mobile'], user_seq: [0, 1] },
        },
      },
      PATH,
    ).expect;
    expect(where).toEqual({
      kind: 'where',
      where: [
        { field: 'consent.ads', path: ['consent', 'ads'], values: [true] },
        { field: 'revenue', path: ['revenue'], values: [null, 12.5] },
        { field: 'device', path: ['device'], values: ['mobile'] },
        { field: 'user_seq', path: ['user_seq'], values: [0, 1] },
      ],
    });
  });

  it('knows the event fields of every schema version, dotted, with their kinds', () => {
    expect([...EVENT_FIELDS.keys()].sort()).toEqual(
      [
        'event_id',
        'user_id',
        'user_seq',
        'type',
        'channel',
        'campaign',
        'event_time',
        'sent_at',
        'revenue',
        'currency',
        'schema_version',
        'device',
        'consent.analytics',
        'consent.ads',
      ].sort(),
    );
    expect(EVENT_FIELDS.get('type')).toEqual({
      kinds: new Set(['string']),
      symbols: ['impression', 'click', 'conversion'],
    });
    expect(EVENT_FIELDS.get('revenue')).toEqual({ kinds: new Set(['null', 'number']) });
    expect(EVENT_FIELDS.get('consent.ads')).toEqual({ kinds: new Set(['boolean']) });
  });

  it('refuses a block that is not an object, and unknown sibling keys', () => {
    for (const raw of [null, 'key', [], 3]) expectRefused(raw, PATH, /expected \{ "id": "field:event_id"/);
    expectRefused({ id: 'key', expct: {} }, `${PATH}.expct`, /unknown field \(known: id, expect\)/);
    expectRefused(
      { id: 'key', expect: { where: { type: ['click'] }, count: 2 } },
      `${PATH}.expect.count`,
      /unknown field \(known: where\)/,
    );
  });

  it.each([
    [undefined, /got nothing/],
    [42, /got 42/],
    ['keys', /got "keys"/],
    ['field:', /dotted field path/],
    ['field:a..b', /dotted field path/],
    ['field: a', /dotted field path/],
    ['header:', /header name/],
    ['header: x', /header name/],
    ['Field:event_id', /expected "field:<dotted.path>", "header:<name>" or "key"/],
  ])('refuses id %j at sut.lineage.id', (id, message) => {
    expectRefused({ id }, `${PATH}.id`, message);
  });

  it('refuses an expect that is neither a module path nor a where block', () => {
    expectRefused({ id: 'key', expect: './expected.json' }, `${PATH}.expect`, /module path ending in \.ts/);
    expectRefused({ id: 'key', expect: 2 }, `${PATH}.expect`, /expected \{ "where"/);
    expectRefused({ id: 'key', expect: [] }, `${PATH}.expect`, /expected \{ "where"/);
    expectRefused({ id: 'key', expect: null }, `${PATH}.expect`, /expected \{ "where"/);
    expectRefused({ id: 'key', expect: {} }, `${PATH}.expect.where`, /expected an object of event field/);
    expectRefused({ id: 'key', expect: { where: [] } }, `${PATH}.expect.where`, /expected an object of event field/);
    expectRefused({ id: 'key', expect: { where: {} } }, `${PATH}.expect.where`, /at least one event field/);
  });

  it('refuses a where field the events do not have, naming it', () => {
    expectRefused(
      { id: 'key', expect: { where: { typo: ['x'] } } },
      `${PATH}.expect.where.typo`,
      /the generator's events have no field "typo" \(fields: event_id, .*consent\.ads\)/,
    );
    expectRefused({ id: 'key', expect: { where: { consent: [true] } } }, `${PATH}.expect.where.consent`, /no field/);
  });

  it('refuses where values of the wrong kind, and enum symbols that do not exist', () => {
    const at = (field: string, values: unknown) => ({ id: 'key', expect: { where: { [field]: values } } });
    expectRefused(at('type', 'click'), `${PATH}.expect.where.type`, /non-empty array of values/);
    expectRefused(at('type', []), `${PATH}.expect.where.type`, /non-empty array of values/);
    expectRefused(
      at('type', ['click', 1]),
      `${PATH}.expect.where.type[1]`,
      /type holds string, never number \(got 1\)/,
    );
    expectRefused(
      at('type', ['purchase']),
      `${PATH}.expect.where.type[0]`,
      /type is one of "impression", "click", "conversion", got "purchase"/,
    );
    expectRefused(at('device', ['watch']), `${PATH}.expect.where.device[0]`, /device is one of "desktop"/);
    expectRefused(at('consent.ads', ['yes']), `${PATH}.expect.where.consent.ads[0]`, /holds boolean, never string/);
    expectRefused(at('revenue', [true]), `${PATH}.expect.where.revenue[0]`, /holds null or number, never boolean/);
    expectRefused(at('user_seq', [null]), `${PATH}.expect.where.user_seq[0]`, /never null/);
    expectRefused(at('user_seq', [{ n: 1 }]), `${PATH}.expect.where.user_seq[0]`, /expected a string, number/);
    expectRefused(at('user_seq', [Number.NaN]), `${PATH}.expect.where.user_seq[0]`, /expected a finite number/);
  });

  it('refuses what only a scenario module can hold (a bigint, a cycle) with the same error', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    const at = (values: unknown) => ({ id: 'key', expect: { where: { user_seq: values } } });
    expectRefused(at([1n]), `${PATH}.expect.where.user_seq[0]`, /got 1n/);
    expectRefused(at([cycle]), `${PATH}.expect.where.user_seq[0]`, /got \[object Object\]/);
    expectRefused({ id: 'key', expect: 5n }, `${PATH}.expect`, /got 5n/);
    expectRefused({ id: cycle }, `${PATH}.id`, /got \[object Object\]/);
  });
});

describe('whereCount', () => {
  const versioned = fc.constantFrom(...SCHEMA_VERSIONS).chain((v) => event({ schemaVersion: v }));
  const spec = (where: Record<string, unknown>) => {
    const e = validateLineage({ id: 'field:event_id', expect: { where } }, PATH).expect;
    if (e.kind !== 'where') throw new Error('not a where');
    return e.where;
  };

  it('counts the documented type filter on events of schema versions 1..3', () => {
    const where = spec({ type: ['click', 'conversion'] });
    const seen = new Set<number>();
    fc.assert(
      fc.property(versioned, (e) => {
        seen.add('consent' in e ? 3 : 'device' in e ? 2 : 1);
        expect(whereCount(where, e)).toBe(e.type === 'click' || e.type === 'conversion' ? 1 : 0);
      }),
      { numRuns: 300 },
    );
    expect([...seen].sort()).toEqual([1, 2, 3]);
  });

  it('reads older events as the latest version does: missing fields take their defaults', () => {
    const device = spec({ device: ['unknown'] });
    const ads = spec({ 'consent.ads': [true] });
    const both = spec({ device: ['mobile', 'desktop'], 'consent.analytics': [false] });
    fc.assert(
      fc.property(versioned, (e) => {
        const latest = asVersion(e, 3);
        expect(whereCount(device, e)).toBe(latest.device === 'unknown' ? 1 : 0);
        expect(whereCount(ads, e)).toBe(latest.consent.ads ? 1 : 0);
        if (!('device' in e)) expect(whereCount(device, e)).toBe(1);
        if (!('consent' in e)) expect(whereCount(ads, e)).toBe(1);
        const wantBoth = (latest.device === 'mobile' || latest.device === 'desktop') && !latest.consent.analytics;
        expect(whereCount(both, e)).toBe(wantBoth ? 1 : 0);
        expect(latestView(e)).toEqual(latest);
      }),
      { numRuns: 300 },
    );
  });

  it('matches null and numbers exactly', () => {
    const noRevenue = spec({ revenue: [null] });
    fc.assert(
      fc.property(versioned, (e) => {
        expect(whereCount(noRevenue, e)).toBe(e.revenue === null ? 1 : 0);
        expect(whereCount(spec({ user_seq: [e.user_seq] }), e)).toBe(1);
        expect(whereCount(spec({ user_seq: [e.user_seq + 1] }), e)).toBe(0);
      }),
    );
  });

  it('valueAt walks dotted paths and stops at anything that is not an object', () => {
    expect(valueAt({ a: { b: { c: 3 } } }, ['a', 'b', 'c'])).toBe(3);
    expect(valueAt({ a: 1 }, ['a', 'b'])).toBeUndefined();
    expect(valueAt({ a: null }, ['a', 'b'])).toBeUndefined();
    expect(valueAt(undefined, ['a'])).toBeUndefined();
    expect(valueAt(5, [])).toBe(5);
  });
});
