/** What each phase measures (the results the table and the JSON report), and the timing shared by the clients. */
import { performance } from 'node:perf_hooks';
import { opts } from './options.ts';
import { VALUE_BYTES } from './records.ts';
import { quantile } from './stats.ts';

// Produce.

export interface ProduceResult {
  records: number;
  seconds: number;
  recordsPerSec: number;
  mbPerSec: number;
  batchP50Ms: number;
  batchP99Ms: number;
  /** Records found in the topic afterwards (end offsets); must equal `records`. */
  landed: number;
}

export async function runBatches(
  n: number,
  inFlight: number,
  send: (from: number, count: number) => Promise<void>,
): Promise<{ seconds: number; latencies: number[] }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < n) {
      const from = next;
      const count = Math.min(opts.batch, n - from);
      next += count;
      const t = performance.now();
      await send(from, count);
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return { seconds: (performance.now() - started) / 1000, latencies: latencies.sort((a, b) => a - b) };
}

export function produceSummary(n: number, seconds: number, latencies: number[]): Omit<ProduceResult, 'landed'> {
  return {
    records: n,
    seconds,
    recordsPerSec: n / seconds,
    mbPerSec: (n * VALUE_BYTES) / seconds / 1e6,
    batchP50Ms: quantile(latencies, 0.5),
    batchP99Ms: quantile(latencies, 0.99),
  };
}

// Consume (a consumer group from the start, read_committed).

export interface ConsumeResult {
  records: number;
  /** From the call to the last record, group join included. */
  seconds: number;
  recordsPerSec: number;
  /** From the first record to the last: the steady fetch rate. */
  steadyPerSec: number;
  firstRecordMs: number;
}

export function consumeSummary(n: number, started: number, first: number, last: number): ConsumeResult {
  return {
    records: n,
    seconds: (last - started) / 1000,
    recordsPerSec: n / ((last - started) / 1000),
    steadyPerSec: n / ((last - first) / 1000),
    firstRecordMs: first - started,
  };
}

// Transactional consume-transform-produce: read input, write output, commit offsets in the transaction.

export interface TxnResult {
  input: number;
  /** Records the consumer handed to the loop at or below an offset the loop had already processed (redelivery). */
  redelivered: number;
  /** Group joins of the loop's consumer (1 without rebalances). */
  joins: number;
  seconds: number;
  recordsPerSec: number;
  transactions: number;
  /** Read back with read_committed: records in the output, distinct input sequence numbers among them. */
  output: number;
  distinct: number;
  /** Offsets the group committed through the transactions, summed over partitions, against the input's end. */
  committed: number;
  correct: boolean;
}

/** Per partition, the highest input offset processed so far: a record at or below it is a redelivery. */
export class RedeliveryTracker {
  readonly #last = new Map<number, bigint>();
  redelivered = 0;
  see(partition: number, offset: bigint): void {
    const last = this.#last.get(partition);
    if (last !== undefined && offset <= last) this.redelivered++;
    else this.#last.set(partition, offset);
  }
}

// A broker of a 3-broker stack is killed under a long-lived producer: how long until acks resume.

export interface FailoverResult {
  killedBroker: number;
  /** Seconds from the kill to the first ack of a send issued after the kill. */
  recoverySeconds: number;
  /** Longest gap between two acks around the kill. */
  maxAckGapSeconds: number;
  errors: number;
  firstError: string;
  acked: number;
}
