/**
 * The harness's output readers must never see records of aborted transactions (read_committed), or a correct
 * pipeline would be reported `duplicated`/`unexpected`. @platformatic/kafka 1.35 leaks them in some fetch responses;
 * scripts/patch-deps.js corrects that, and this test, on a real broker, shows the fix holds where the bug was.
 * Nor may they stop at an aborted transaction: a fetch response holding only aborted records (an aborted transaction
 * that crosses a log segment, as after a crash mid-transaction under load) must still move the reader past it, or
 * every committed record after it reads as lost. And the run's check that the observer read its output to the end
 * (harness/runner/output-end.ts) tells a reader that stopped short from one that is done.
 */
import { randomUUID } from 'node:crypto';
import { Producer, stringSerializers } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeNow, ensureTopic } from '../harness/kafka/clients.ts';
import { outputUnread } from '../harness/runner/output-end.ts';
import { type StartedStack, startStack } from '../harness/stack/stack.ts';
import { readN } from './helpers.ts';

/** A transactional string producer with a fresh transactional id (`<name>-<uuid>`). */
function transactionalProducer(bootstrap: string, name: string) {
  return new Producer({
    clientId: `${name}-test`,
    bootstrapBrokers: [bootstrap],
    serializers: stringSerializers,
    idempotent: true,
    acks: -1,
    transactionalId: `${name}-${randomUUID()}`,
    producerId: -1n,
    producerEpoch: -1,
    retryDelay: 50,
  });
}

describe('read_committed through the harness client', () => {
  let stack: StartedStack;
  beforeAll(async () => {
    stack = await startStack({ brokers: 1, registry: false });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('two aborted transactions of one producer and a committed one, read in one fetch: only the committed records', async () => {
    const topic = `rc-${randomUUID()}`;
    await ensureTopic(stack.bootstrap, topic, { partitions: 1 });
    const producer = transactionalProducer(stack.bootstrap, 'rc');
    try {
      for (const [name, end] of [
        ['aborted-1', 'abort'],
        ['aborted-2', 'abort'],
        ['committed', 'commit'],
      ] as const) {
        const tx = await producer.beginTransaction();
        await tx.send({ messages: Array.from({ length: 5 }, (_, i) => ({ topic, key: 'k', value: `${name}-${i}` })) });
        if (end === 'abort') await tx.abort();
        else await tx.commit();
      }
    } finally {
      await closeNow(producer);
    }
    const got = await readN(stack.bootstrap, topic, 15, 6000);
    expect(got.map((r) => r.value)).toEqual([
      'committed-0',
      'committed-1',
      'committed-2',
      'committed-3',
      'committed-4',
    ]);
  });

  it('an aborted transaction across a log segment: the reader gets past it to the committed records after it', async () => {
    const topic = `rc-seg-${randomUUID()}`;
    // Small segments: the aborted transaction below spans several, and a fetch reads one segment at a time.
    await ensureTopic(stack.bootstrap, topic, { partitions: 1, configs: { 'segment.bytes': String(1024 * 1024) } });
    const producer = transactionalProducer(stack.bootstrap, 'rc-seg');
    const big = 'x'.repeat(1000);
    try {
      for (const [name, end, n] of [
        ['before', 'commit', 5],
        ['aborted', 'abort', 2500],
        ['after', 'commit', 5],
      ] as const) {
        const tx = await producer.beginTransaction();
        for (let i = 0; i < n; i += 100) {
          const count = Math.min(100, n - i);
          await tx.send({
            messages: Array.from({ length: count }, (_, j) => ({
              topic,
              key: 'k',
              value: name === 'aborted' ? `${name}-${i + j}-${big}` : `${name}-${i + j}`,
            })),
          });
        }
        if (end === 'abort') await tx.abort();
        else await tx.commit();
      }
    } finally {
      await closeNow(producer);
    }
    const got = await readN(stack.bootstrap, topic, 10, 15_000);
    expect(got.map((r) => r.value)).toEqual([
      ...Array.from({ length: 5 }, (_, i) => `before-${i}`),
      ...Array.from({ length: 5 }, (_, i) => `after-${i}`),
    ]);

    // The end-of-output check: a reader at the end is done; one at an earlier offset is reported, with the offsets.
    const end = got.at(-1)!.offset + 2n; // the last record, then its commit marker
    expect(await outputUnread({ bootstrap: stack.bootstrap, topic, positions: () => [end], timeoutMs: 2000 })).toBe(
      undefined,
    );
    const stuck = await outputUnread({ bootstrap: stack.bootstrap, topic, positions: () => [6n], timeoutMs: 1000 });
    expect(stuck).toContain(`partition 0 read up to offset 6 of ${end}`);
  });
});
