/**
 * Did the observer read the whole output? After the drain, the observer's position in every output partition (the
 * offset after the last record, marker or aborted batch it read) is compared with that partition's read_committed
 * end (its last stable offset, read now). Behind means records that were committed are not in the history yet: the
 * drain's quiet output was the observer not moving, not the pipeline being done, and anything missing cannot be
 * called lost. The observer keeps reading meanwhile, so it is given `timeoutMs` to reach those ends; one that does
 * not is reported, and the run's verdict is unknown, never a false `lost`.
 */
import { randomUUID } from 'node:crypto';
import { Consumer } from '@platformatic/kafka';
import { type Bootstrap, bootstrapList, closeNow } from '../kafka/clients.ts';
import { securityFor } from '../kafka/security.ts';

export interface OutputEndOptions {
  bootstrap: Bootstrap;
  topic: string;
  /** The observer's next offset per partition (index = partition). */
  positions: () => readonly bigint[];
  timeoutMs: number;
  intervalMs?: number;
}

/** Undefined when the observer read every partition to its end; else which partitions it did not, in words. */
export async function outputUnread(o: OutputEndOptions): Promise<string | undefined> {
  const reader = new Consumer({
    clientId: 'streamproof-output-end',
    groupId: `streamproof-output-end-${randomUUID()}`,
    bootstrapBrokers: bootstrapList(o.bootstrap),
    ...securityFor(o.bootstrap),
    isolationLevel: 1,
    timeout: 10_000,
  });
  const deadline = Date.now() + o.timeoutMs;
  try {
    let ends: readonly bigint[] | undefined;
    let lastError: unknown;
    while (ends === undefined) {
      try {
        ends = (await reader.listOffsets({ topics: [o.topic], isolationLevel: 1 })).get(o.topic) ?? [];
      } catch (err) {
        lastError = err;
        if (Date.now() >= deadline) {
          return `the read_committed end offsets of ${o.topic} could not be read (${(lastError as Error).message})`;
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    for (;;) {
      const at = o.positions();
      const behind = ends.map((end, p) => ({ p, end, at: at[p] ?? 0n })).filter((x) => x.at < x.end);
      if (behind.length === 0) return undefined;
      if (Date.now() >= deadline) {
        return `the observer did not read ${o.topic} to its end: ${behind
          .map((x) => `partition ${x.p} read up to offset ${x.at} of ${x.end} (read_committed end)`)
          .join('; ')}`;
      }
      await new Promise((r) => setTimeout(r, o.intervalMs ?? 200));
    }
  } finally {
    await closeNow(reader);
  }
}
