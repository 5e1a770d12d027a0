/**
 * The fast sender's outcomes: per partition from a failed send, and `failed` for a send that never reached a broker.
 * Its wire format is checked in produce-encoder.test.ts; the broker accepting its requests is covered by the bench
 * integration test (test/bench-cli.test.ts: every record acked and in the topic).
 */
import { describe, expect, it } from 'vitest';
import { createBulkGenerator } from '../../generators/bulk.ts';
import { StreamproofError } from '../util/errors.ts';
import { FastLaneSender, sendError } from './fast-sender.ts';
import { partitionForKey } from './murmur2.ts';
import type { OutMessage } from './transport.ts';

function messages(n: number, partitions: number): OutMessage[] {
  const b = createBulkGenerator({ seed: 3, ratePerSec: 1000 }).nextBatch(n);
  const bytes = Buffer.from(b.buffer.subarray(0, b.bounds[2 * n]!));
  return Array.from({ length: n }, (_, i) => {
    const k0 = b.bounds[2 * i]!;
    const k1 = b.bounds[2 * i + 1]!;
    return {
      topic: 't',
      key: bytes.subarray(k0, k1),
      value: bytes.subarray(k1, b.bounds[2 * i + 2]!),
      partition: partitionForKey(bytes, partitions, k0, k1),
    };
  });
}

describe('produce response and outcomes', () => {
  it('maps a failed send per partition, unknown for partitions it does not name', () => {
    const s = new FastLaneSender({
      bootstrap: '127.0.0.1:1',
      topic: 't',
      clientId: 'x',
      idempotent: true,
      compression: 'none',
      acksTimeoutMs: 1000,
    });
    const e = sendError(
      'NOT_LEADER_OR_FOLLOWER',
      new Map([
        [0, 'acked'],
        [1, 'failed'],
      ]),
      'unknown',
    );
    const of = s.outcomes(e);
    expect([of(0), of(1), of(2)]).toEqual(['acked', 'failed', 'unknown']);
    expect(s.outcomes(new Error('anything else'))(0)).toBe('unknown');
  });

  it('a send that never reaches a broker is failed, not unknown', async () => {
    const s = new FastLaneSender({
      bootstrap: '127.0.0.1:1',
      topic: 't',
      clientId: 'x',
      idempotent: true,
      compression: 'none',
      acksTimeoutMs: 1000,
      connectTimeoutMs: 500,
    });
    const err = await new Promise<unknown>((resolve) => s.send(messages(10, 2), resolve));
    expect(err).toBeInstanceOf(StreamproofError);
    expect((err as StreamproofError).code).toBe('LOAD_SEND_FAILED');
    expect(s.outcomes(err)(0)).toBe('failed');
    await s.close();
  });
});
