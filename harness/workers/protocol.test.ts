import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  assembleResult,
  CHUNK_BYTES,
  type ControlRecord,
  chunkResult,
  controlTopic,
  decodeControl,
  encodeControl,
} from './protocol.ts';
import { claimedIndex } from './worker.ts';

const plan: ControlRecord = {
  type: 'plan',
  workers: 2,
  topic: 'events.x',
  partitions: 6,
  load: { stages: [{ duration: 5000, rate: 2000, endRate: 2000 }], producers: 3, acksTimeoutMs: 30_000 },
  generator: { seed: 7, users: 500, format: 'json', schemaId: 0, schemaVersion: 3 },
  workerTimeoutMs: 60_000,
};

describe('control protocol', () => {
  it('round-trips every record type', () => {
    const records: ControlRecord[] = [
      plan,
      { type: 'join', workerId: 'w1', host: 'h', pid: 12 },
      { type: 'ready', workerId: 'w1', index: 1, host: 'h', pid: 12, lanes: [0, 2] },
      { type: 'start', startAt: 1_800_000_000_000 },
      { type: 'stop' },
      { type: 'abort', reason: 'worker 1 missing' },
      { type: 'chunk', workerId: 'w1', index: 1, seq: 0, data: 'AAAA' },
      { type: 'done', workerId: 'w1', index: 1, chunks: 1, bytes: 3, sha256: 'a'.repeat(64) },
      { type: 'done', workerId: 'w1', index: 1, chunks: 0, bytes: 0, sha256: 'b'.repeat(64), error: 'boom' },
    ];
    for (const r of records) expect(decodeControl('run-1', encodeControl('run-1', r))).toEqual(r);
  });

  it("ignores another run's records and another format", () => {
    expect(decodeControl('run-2', encodeControl('run-1', plan))).toBeUndefined();
    expect(decodeControl('run-1', JSON.stringify({ format: 'streamproof.control/9', runId: 'run-1' }))).toBeUndefined();
  });

  it('refuses malformed records, naming the field', () => {
    const enc = (o: Record<string, unknown>) => JSON.stringify({ format: 'streamproof.control/1', runId: 'r', ...o });
    expect(() => decodeControl('r', 'not json')).toThrow(/value: expected JSON/);
    expect(() => decodeControl('r', enc({ type: 'nope' }))).toThrow(/type: expected one of plan/);
    expect(() => decodeControl('r', enc({ ...plan, workers: 0 }))).toThrow(/plan\.workers/);
    expect(() =>
      decodeControl('r', enc({ ...plan, load: { ...(plan as { load: object }).load, stages: [{ duration: 1 }] } })),
    ).toThrow(/plan\.load\.stages\[0\]\.rate/);
    expect(() => decodeControl('r', enc({ type: 'start', startAt: 1.5 }))).toThrow(/start\.startAt/);
    expect(() =>
      decodeControl('r', enc({ type: 'done', workerId: 'w', index: 0, chunks: 1, bytes: 1, sha256: 'xyz' })),
    ).toThrow(/done\.sha256/);
  });

  it('the control topic is per run and the run id is checked', () => {
    expect(controlTopic('smoke-1-abc')).toBe('streamproof.control.smoke-1-abc');
    expect(() => controlTopic('a b')).toThrow(/--run-id/);
  });
});

describe('result chunking', () => {
  it('splits a result over 1 MiB into records under the broker limit and reassembles it in any order', () => {
    // Incompressible payload: ~3 MiB of base64 text, so gzip cannot make it fit one record.
    const result = { blob: randomBytes(2.5 * 1024 * 1024).toString('base64'), n: 42 };
    const { chunks, done } = chunkResult('w', 1, result);
    expect(chunks.length).toBeGreaterThanOrEqual(6);
    expect(done.chunks).toBe(chunks.length);
    for (const c of chunks) {
      const bytes = encodeControl('run-1', c).length;
      expect(bytes).toBeLessThan(1024 * 1024);
      expect(Buffer.from(c.data, 'base64').length).toBeLessThanOrEqual(CHUNK_BYTES);
    }
    const shuffled = [...chunks].reverse();
    shuffled.push(chunks[2]!); // a producer retry may repeat a record
    expect(assembleResult(shuffled, done)).toEqual(result);
  });

  it('says which chunk is missing and refuses a corrupt one', () => {
    const { chunks, done } = chunkResult('w', 0, { x: randomBytes(3000).toString('hex') }, 100);
    expect(chunks.length).toBeGreaterThan(1);
    expect(() => assembleResult(chunks.slice(1), done)).toThrow(/chunk\(s\) 0 of/);
    const bad = chunks.map((c, i) => (i === 0 ? { ...c, data: Buffer.from('garbage').toString('base64') } : c));
    expect(() => assembleResult(bad, done)).toThrow(/sha256/);
    // chunks of another worker with the same index do not count
    expect(() =>
      assembleResult(
        chunks.map((c) => ({ ...c, workerId: 'other' })),
        done,
      ),
    ).toThrow(/missing/);
  });

  it('an empty-looking result still has one chunk', () => {
    const { chunks, done } = chunkResult('w', 0, null);
    expect(chunks.length).toBe(1);
    expect(assembleResult(chunks, done)).toBeNull();
  });
});

describe('index claiming', () => {
  it('is the number of distinct workers that joined first, in topic order', () => {
    const log: ControlRecord[] = [
      plan,
      { type: 'join', workerId: 'b', host: 'h', pid: 2 },
      { type: 'join', workerId: 'a', host: 'h', pid: 1 },
      { type: 'join', workerId: 'b', host: 'h', pid: 2 }, // a retried join does not take a second index
      { type: 'join', workerId: 'c', host: 'h', pid: 3 },
    ];
    expect(claimedIndex(log, 'b')).toBe(0);
    expect(claimedIndex(log, 'a')).toBe(1);
    expect(claimedIndex(log, 'c')).toBe(2);
    expect(() => claimedIndex(log, 'z')).toThrow(/no join/);
  });
});
