/**
 * Read a whole topic once, read_committed, from the start to its end offsets as of the call (the harness's own
 * verification path: the input an attribution pipeline really received).
 */
import { randomUUID } from 'node:crypto';
import { Consumer } from '@platformatic/kafka';
import { closeNow } from './clients.ts';
import { securityFor } from './security.ts';

export interface RawRecord {
  key: Buffer | undefined;
  value: Buffer;
  partition: number;
  offset: bigint;
  /** Header name -> first value (values that are not bytes skipped). */
  headers: Map<string, Buffer>;
}

function headersOf(h: unknown): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  if (!(h instanceof Map)) return out;
  for (const [k, v] of h) {
    const name = Buffer.isBuffer(k) ? k.toString('utf8') : String(k);
    if (Buffer.isBuffer(v) && !out.has(name)) out.set(name, v);
  }
  return out;
}

export async function readTopic(
  bootstrap: string,
  topic: string,
  opts: { timeoutMs?: number; quietMs?: number } = {},
): Promise<RawRecord[]> {
  const consumer = new Consumer({
    clientId: 'streamproof-reader',
    groupId: `streamproof-reader-${randomUUID()}`,
    bootstrapBrokers: [bootstrap],
    ...securityFor(bootstrap),
    isolationLevel: 1,
    maxWaitTime: 100,
    timeout: 15_000,
  });
  const out: RawRecord[] = [];
  try {
    const ends = (await consumer.listOffsets({ topics: [topic], isolationLevel: 1 })).get(topic) ?? [];
    const remaining = new Set(ends.map((end, p) => (end > 0n ? p : -1)).filter((p) => p >= 0));
    if (remaining.size === 0) return out;
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false, isolationLevel: 1 });
    const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
    let last = Date.now();
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        // Transaction markers take offsets no record reaches: a partition that went quiet is done too.
        if (Date.now() - last > (opts.quietMs ?? 2000) || Date.now() > deadline) resolve();
      }, 100);
      stream.on('data', (m) => {
        last = Date.now();
        out.push({
          key: m.key as Buffer | undefined,
          value: m.value as Buffer,
          partition: m.partition,
          offset: m.offset,
          headers: headersOf(m.headers),
        });
        if (m.offset + 1n >= (ends[m.partition] ?? 0n)) remaining.delete(m.partition);
        if (remaining.size === 0) resolve();
      });
      stream.on('error', reject);
      stream.once('close', () => clearInterval(timer));
    }).finally(() => stream.close().catch(() => {}));
  } finally {
    await closeNow(consumer);
  }
  return out;
}
