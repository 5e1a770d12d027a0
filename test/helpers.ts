/**
 * Small helpers for integration tests on the real stack: produce and read records with the harness's client.
 */
import { randomUUID } from 'node:crypto';
import { Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { closeNow } from '../harness/kafka/clients.ts';

export async function produce(
  bootstrap: string,
  topic: string,
  records: { key: string; value: string }[],
  opts: { timeoutMs?: number; retries?: number | false; retryDelayMs?: number; autocreateTopics?: boolean } = {},
): Promise<void> {
  const producer = new Producer({
    clientId: 'test-producer',
    bootstrapBrokers: [bootstrap],
    serializers: stringSerializers,
    acks: -1,
    idempotent: true,
    timeout: opts.timeoutMs ?? 10_000,
    retries: opts.retries ?? 3,
    retryDelay: opts.retryDelayMs ?? 250,
    autocreateTopics: opts.autocreateTopics ?? false,
  });
  try {
    await producer.send({ messages: records.map((r) => ({ topic, ...r })) });
  } finally {
    await closeNow(producer);
  }
}

/** Read from the start until `count` records arrived or `timeoutMs` passed; returns what arrived. */
export async function readN(
  bootstrap: string,
  topic: string,
  count: number,
  timeoutMs = 20_000,
): Promise<{ key: string; value: string; partition: number; offset: bigint }[]> {
  const consumer = new Consumer({
    clientId: 'test-consumer',
    groupId: `test-${randomUUID()}`,
    bootstrapBrokers: [bootstrap],
    deserializers: stringDeserializers,
    maxWaitTime: 200,
    timeout: 10_000,
  });
  const got: { key: string; value: string; partition: number; offset: bigint }[] = [];
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false, isolationLevel: 1 });
    const timer = setTimeout(() => void stream.close(), timeoutMs);
    try {
      for await (const m of stream) {
        got.push({ key: m.key as string, value: m.value as string, partition: m.partition, offset: m.offset });
        if (got.length >= count) break;
      }
    } finally {
      clearTimeout(timer);
      await stream.close().catch(() => {});
    }
  } finally {
    await closeNow(consumer);
  }
  return got;
}

/** Settles with 'ok', or 'error: ...' when the call throws, or 'stalled' after ms. */
export async function outcome(p: Promise<unknown>, ms: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<string>((r) => {
    timer = setTimeout(() => r('stalled'), ms);
  });
  try {
    return await Promise.race([
      p.then(
        () => 'ok',
        (e: Error) => `error: ${e.message}`,
      ),
      stalled,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export function listeningPids(): Promise<Set<number>> {
  return import('node:child_process').then(
    ({ execFileSync }) =>
      new Set(
        [...execFileSync('ss', ['-ltnpH'], { encoding: 'utf8' }).matchAll(/pid=(\d+)/g)].map((m) => Number(m[1])),
      ),
  );
}
