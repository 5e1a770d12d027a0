/** The run: a 1-broker stack for the interleaved repetitions, optionally a 3-broker stack for the loop and a kill. */
import { readFileSync } from 'node:fs';
import { ensureTopic } from '../../harness/kafka/clients.ts';
import { type StartedStack, startStack } from '../../harness/stack/stack.ts';
import { failover } from './failover.ts';
import { type JavaResult, javaProducerPerformance } from './java.ts';
import { type CompatCheck, consumeKafkajs, kafkajsCompat, produceKafkajs } from './kafkajs.ts';
import type { ConsumeResult, FailoverResult, ProduceResult, TxnResult } from './measurements.ts';
import { type ClientName, log, opts } from './options.ts';
import { consumePlatformatic, producePlatformatic } from './platformatic.ts';
import { attempt, loadavg, phaseTimeout, withTimeout } from './tools.ts';
import { type TxnVariant, txnRun, txnVariants } from './txn.ts';
import { topicRecords } from './verify.ts';

/** The stack now running, so a signal can stop it (children also die with us through the stack's lifeline). */
let running: StartedStack | undefined;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    log(`${sig}: stopping the stack`);
    void (running?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

export interface Rep {
  rep: number;
  order: string[];
  loadavg: [number, number, number];
  produce: Partial<Record<ClientName, ProduceResult | { error: string }>>;
  consume: Partial<Record<ClientName, ConsumeResult | { error: string }>>;
  txn: Partial<Record<TxnVariant, TxnResult | { error: string }>>;
  java?: JavaResult | { error: string };
}

export async function fillInput(bootstrap: string, topic: string, n: number, replicas: number): Promise<void> {
  await ensureTopic(bootstrap, topic, { partitions: opts.partitions, replicas });
  // One send in flight: concurrent sends on an idempotent @platformatic/kafka 1.x producer reuse sequence numbers.
  await producePlatformatic(bootstrap, topic, n, 1);
}

export async function oneBroker(): Promise<{ reps: Rep[]; compat: CompatCheck[]; brokerLogHits: string[] }> {
  log(`starting a 1-broker stack`);
  await using stack = await startStack({ brokers: 1, registry: false });
  running = stack;
  const b = stack.bootstrap;
  log(`stack ready at ${b} (${stack.status().startSeconds.toFixed(1)} s)`);
  const reps: Rep[] = [];
  const clients: ClientName[] = ['kafkajs', 'platformatic'];
  for (let r = 0; r < opts.reps; r++) {
    const order: string[] = r % 2 === 0 ? [...clients, 'java'] : ['java', ...[...clients].reverse()];
    const rep: Rep = { rep: r + 1, order, loadavg: loadavg(), produce: {}, consume: {}, txn: {} };
    log(`rep ${r + 1}/${opts.reps}, order ${order.join(' > ')}, loadavg ${rep.loadavg.join(' ')}`);
    const txnInput = `txn-in-${r}`;
    await fillInput(b, txnInput, opts.txnRecords, 1);
    for (const who of order) {
      if (who === 'java') {
        const topic = `produce-java-${r}`;
        await ensureTopic(b, topic, { partitions: opts.partitions, replicas: 1 });
        rep.java = await attempt('java produce', () => javaProducerPerformance(stack, topic, opts.records));
        log(`  java: ${JSON.stringify(rep.java)}`);
        continue;
      }
      const client = who as ClientName;
      const topic = `produce-${client}-${r}`;
      await ensureTopic(b, topic, { partitions: opts.partitions, replicas: 1 });
      rep.produce[client] = await attempt(`${client} produce`, async () => {
        const p =
          client === 'kafkajs'
            ? await withTimeout(produceKafkajs(b, topic, opts.records), phaseTimeout(opts.records), 'kafkajs produce')
            : await withTimeout(
                producePlatformatic(b, topic, opts.records),
                phaseTimeout(opts.records),
                'platformatic produce',
              );
        return { ...p, landed: await topicRecords(b, topic) };
      });
      log(`  ${client} produce: ${JSON.stringify(rep.produce[client])}`);
      // Both clients read the same topic (the one platformatic wrote last rep is as good as any): the one each wrote.
      const group = `consume-${client}-${r}`;
      rep.consume[client] = await attempt(`${client} consume`, () =>
        client === 'kafkajs'
          ? consumeKafkajs(b, topic, opts.records, group)
          : consumePlatformatic(b, topic, opts.records, group),
      );
      log(`  ${client} consume: ${JSON.stringify(rep.consume[client])}`);
      for (const variant of [client, `${client}-retry20` as const]) {
        rep.txn[variant] = await attempt(`${variant} txn`, () =>
          txnRun(variant, b, txnInput, opts.txnRecords, `1b-${r}`, 1),
        );
        log(`  ${variant} txn: ${JSON.stringify(rep.txn[variant])}`);
      }
    }
    rep.loadavg = loadavg();
    reps.push(rep);
  }
  log('kafkajs admin checks');
  const compat = await kafkajsCompat(b, 'consume-kafkajs-0', 'produce-kafkajs-0');
  const brokerLogHits = grepBrokerLogs(stack);
  return { reps, compat, brokerLogHits };
}

/** Lines in the broker logs that say a client used a request version the broker does not support. */
export function grepBrokerLogs(stack: StartedStack): string[] {
  const hits: string[] = [];
  for (const broker of stack.status().kafka.brokers) {
    try {
      for (const line of readFileSync(broker.log, 'utf8').split('\n')) {
        if (/unsupported version|UnsupportedVersion|InvalidRequest/i.test(line)) hits.push(line.slice(0, 300));
      }
    } catch {
      // the log may have been rotated away; the check is best effort
    }
  }
  return hits.slice(0, 20);
}

export async function threeBrokers(): Promise<{
  txn: Partial<Record<TxnVariant, TxnResult | { error: string }>>;
  failover: Partial<Record<ClientName, FailoverResult | { error: string }>>;
  loadavg: [number, number, number];
}> {
  log('starting a 3-broker stack');
  await using stack = await startStack({ brokers: 3, registry: false });
  running = stack;
  const b = stack.bootstrap;
  const n = opts.txnRecords;
  await fillInput(b, 'txn-in-3b', n, 3);
  const txn: Partial<Record<TxnVariant, TxnResult | { error: string }>> = {};
  for (const client of txnVariants.flat()) {
    txn[client] = await attempt(`${client} txn (3 brokers)`, () => txnRun(client, b, 'txn-in-3b', n, '3b', 3));
    log(`  ${client} txn (3 brokers): ${JSON.stringify(txn[client])}`);
  }
  const fo: Partial<Record<ClientName, FailoverResult | { error: string }>> = {};
  await ensureTopic(b, 'failover', { partitions: opts.partitions, replicas: 3 });
  for (const client of ['kafkajs', 'platformatic'] as const) {
    // Broker 1 is the bootstrap; kill broker 2, which leads about a third of the partitions.
    fo[client] = await attempt(`${client} failover`, () => failover(client, stack, 'failover', 2));
    log(`  ${client} failover: ${JSON.stringify(fo[client])}`);
  }
  return { txn, failover: fo, loadavg: loadavg() };
}
