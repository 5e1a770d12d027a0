/**
 * Kafka client choice, measured: kafkajs against @platformatic/kafka on the real stack, with Kafka's own
 * ProducerPerformance on the same broker as the ceiling.
 *
 *   npx tsx scripts/bench-kafka-clients.ts [--records N] [--reps R] [--three] [--json]
 *
 * The model: one stack per run (1 broker; `--three` adds a 3-broker stack for the transactional loop and a broker
 * kill). Every measurement runs once per repetition, clients interleaved (the order flips each repetition), and the
 * table reports the median, because the machine is shared and its load moves under us. Records are 100-byte values
 * keyed by user (seeded, so every client sends the same keys in the same order), acks=all, idempotent, no compression.
 * Each phase has a timeout and the whole run a time budget; a phase that runs out is reported, never waited for.
 * Only 127.0.0.1 is contacted: the stack's own brokers.
 *
 * The parts, in scripts/bench-kafka-clients/: options.ts (command line, budget, log), records.ts (the seeded records),
 * kafkajs.ts, platformatic.ts and java.ts (the per-client runners; java.ts runs harness/bench/producer-performance.ts),
 * measurements.ts (result shapes, batch timing), txn.ts and verify.ts (the transactional loop and its read-back),
 * failover.ts (the broker kill), run.ts (the stacks and repetitions), stats.ts and report.ts (medians, table, JSON).
 */
import os from 'node:os';
import { deadline, log, opts } from './bench-kafka-clients/options.ts';
import { report } from './bench-kafka-clients/report.ts';
import { oneBroker, threeBrokers } from './bench-kafka-clients/run.ts';
import { errText, loadavg } from './bench-kafka-clients/tools.ts';

async function main(): Promise<void> {
  const startLoad = loadavg();
  log(`options ${JSON.stringify(opts)}; ${os.cpus().length} cpus; loadavg ${startLoad.join(' ')}`);
  const one = opts.reps > 0 ? await oneBroker() : { reps: [], compat: [], brokerLogHits: [] };
  const three = opts.three && Date.now() < deadline - 120_000 ? await threeBrokers() : undefined;
  const endLoad = loadavg();
  report(one, three, startLoad, endLoad);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench failed: ${errText(err)}\n`);
    process.exit(3);
  },
);
