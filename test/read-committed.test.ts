/**
 * The harness's output readers must never see records of aborted transactions (read_committed), or a correct
 * pipeline would be reported `duplicated`/`unexpected`. @platformatic/kafka 1.35 leaks them in some fetch responses;
 * scripts/patch-deps.js corrects that, and this test, on a real broker, shows the fix holds where the bug was.
 */
import { randomUUID } from 'node:crypto';
import { Producer, stringSerializers } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeNow, ensureTopic } from '../harness/kafka/clients.ts';
import { type StartedStack, startStack } from '../harness/stack/stack.ts';
import { readN } from './helpers.ts';

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
    const producer = new Producer({
      clientId: 'rc-test',
      bootstrapBrokers: [stack.bootstrap],
      serializers: stringSerializers,
      idempotent: true,
      acks: -1,
      transactionalId: `rc-${randomUUID()}`,
      producerId: -1n,
      producerEpoch: -1,
      retryDelay: 50,
    });
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
});
