import { describe, expect, it } from 'vitest';
import { historyOf } from '../history/index.ts';
import { checkSchema } from './schema.ts';

describe('schema', () => {
  it('passes when every record decoded', () => {
    const r = checkSchema(
      historyOf([
        { kind: 'observed', time: 0, eventId: '0-0', key: 'u', partition: 0, offset: 0, userSeq: 0, sentAt: 0 },
      ]),
    );
    expect(r).toMatchObject({ valid: true, anomalyTypes: [], counts: { undecodable: 0 } });
  });

  it('undecodable', () => {
    const bad = {
      kind: 'observed' as const,
      time: 5,
      eventId: undefined,
      key: 'u',
      partition: 2,
      offset: 7,
      userSeq: undefined,
      sentAt: undefined,
      raw: 'AAE=',
      decodeError: 'unknown magic byte',
    };
    const r = checkSchema(historyOf([bad, { ...bad, offset: 8 }, { ...bad, offset: 9 }]), { maxExamples: 2 });
    expect(r.valid).toBe(false);
    expect(r.anomalyTypes).toEqual(['undecodable']);
    expect(r.counts.undecodable).toBe(3);
    expect(r.undecodable).toEqual([
      { partition: 2, offset: 7, time: 5, key: 'u', raw: 'AAE=', decodeError: 'unknown magic byte' },
      { partition: 2, offset: 8, time: 5, key: 'u', raw: 'AAE=', decodeError: 'unknown magic byte' },
    ]);
  });
});
