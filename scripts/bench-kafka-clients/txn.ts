/** The transactional loop's variants, each run against its own output topic and verified. */
import { ensureTopic } from '../../harness/kafka/clients.ts';
import { txnKafkajs } from './kafkajs.ts';
import type { TxnResult } from './measurements.ts';
import { type ClientName, opts } from './options.ts';
import { txnPlatformatic } from './platformatic.ts';
import { verifyTxn } from './verify.ts';

/**
 * Both clients retry CONCURRENT_TRANSACTIONS (the broker still completing the previous commit when the next
 * transaction adds its partitions) after a fixed pause: kafkajs 300 ms (its `retry.initialRetryTime`), platformatic
 * 1000 ms (its `retryDelay`); the Java client retries that error after 20 ms. The `-retry20` variants measure each
 * client at the Java client's pace.
 */
export type TxnVariant = ClientName | 'kafkajs-retry20' | 'platformatic-retry20';
export const txnVariants: [TxnVariant, TxnVariant][] = [
  ['kafkajs', 'platformatic'],
  ['kafkajs-retry20', 'platformatic-retry20'],
];

export async function txnRun(
  client: TxnVariant,
  bootstrap: string,
  input: string,
  n: number,
  tag: string,
  replicas: number,
): Promise<TxnResult> {
  const output = `txn-out-${client}-${tag}`;
  await ensureTopic(bootstrap, output, { partitions: opts.partitions, replicas });
  const id = `bench-${client}-${tag}`;
  const r = client.startsWith('platformatic')
    ? await txnPlatformatic(bootstrap, input, output, n, id, client.endsWith('retry20') ? 20 : undefined)
    : await txnKafkajs(bootstrap, input, output, n, id, client.endsWith('retry20') ? 20 : undefined);
  const v = await verifyTxn(bootstrap, input, output, n, r.group);
  return {
    input: n,
    seconds: r.seconds,
    recordsPerSec: r.processed / r.seconds,
    transactions: r.transactions,
    redelivered: r.redelivered,
    joins: r.joins,
    output: v.output,
    distinct: v.distinct,
    committed: v.committed,
    correct: v.output === n && v.distinct === n && v.committed === n,
  };
}
