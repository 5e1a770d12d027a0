/** What landed, read back independently of the client under test: topic end offsets, the transactional output. */
import { type Message, Consumer as PConsumer } from '@platformatic/kafka';
import { closeNow } from '../../harness/kafka/clients.ts';
import { opts } from './options.ts';

/** Sum of end offsets minus start offsets: the records a non-transactional topic holds. */
export async function topicRecords(bootstrap: string, topic: string): Promise<number> {
  const c = new PConsumer({
    clientId: 'bench-offsets',
    groupId: `bench-offsets-${topic}`,
    bootstrapBrokers: [bootstrap],
  });
  try {
    const ends = await c.listOffsets({ topics: [topic], isolationLevel: 0 });
    const starts = await c.listOffsets({ topics: [topic], timestamp: -2n, isolationLevel: 0 });
    const e = ends.get(topic) ?? [];
    const s = starts.get(topic) ?? [];
    return e.reduce((sum, off, i) => sum + Number(off - (s[i] ?? 0n)), 0);
  } finally {
    await closeNow(c);
  }
}

/** Read the output with read_committed until idle; count records and distinct input sequence numbers. */
export async function verifyTxn(
  bootstrap: string,
  input: string,
  output: string,
  n: number,
  group: string,
): Promise<{ output: number; distinct: number; committed: number }> {
  const consumer = new PConsumer({
    clientId: 'bench-verify',
    groupId: `${group}-verify`,
    bootstrapBrokers: [bootstrap],
    isolationLevel: 1,
    maxWaitTime: 200,
  });
  const seen = new Uint8Array(n);
  let count = 0;
  let distinct = 0;
  try {
    const stream = await consumer.consume({ topics: [output], mode: 'earliest', autocommit: false });
    await new Promise<void>((resolve) => {
      let idle: NodeJS.Timeout | undefined;
      const arm = () => {
        clearTimeout(idle);
        idle = setTimeout(resolve, count >= n ? 1_500 : 10_000);
      };
      arm();
      stream.on('data', (m: Message) => {
        count++;
        const seq = m.value.readUInt32BE(0);
        if (seq < n && seen[seq] === 0) {
          seen[seq] = 1;
          distinct++;
        }
        arm();
      });
      stream.on('error', () => resolve());
    });
    await stream.close().catch(() => {});
  } finally {
    await closeNow(consumer);
  }
  // The loop's own group, asked without joining it: what its transactions committed.
  const group0 = new PConsumer({ clientId: 'bench-verify', groupId: group, bootstrapBrokers: [bootstrap] });
  try {
    const committed = await group0.listCommittedOffsets({
      topics: [{ topic: input, partitions: Array.from({ length: opts.partitions }, (_, i) => i) }],
    });
    const offs = committed.get(input) ?? [];
    return { output: count, distinct, committed: offs.reduce((s, o) => s + Math.max(0, Number(o)), 0) };
  } finally {
    await closeNow(group0);
  }
}
