/**
 * Which shape of our producer pipelines best: lanes (producers, each its own connection and producer id, each
 * generating the whole stream and keeping its partitions) x produce requests in flight per lane (fast sender).
 * Ours alone, one 1-broker stack, configurations alternating (the order reverses every repetition), 300 000 records
 * of 100 bytes per run on a fresh 6-partition topic, records/s acked and the 1-minute load average per line.
 *
 *   npx tsx harness/bench/lanes-bench.ts [--configs 1x1,1x3,2x1,2x2,3x2] [--reps 2] [--records 300000]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { startStack } from '../stack/stack.ts';
import { oursOnce } from './producer.ts';

const { values } = parseArgs({
  options: {
    configs: { type: 'string', default: '1x1,1x3,2x1,2x2,3x2' },
    reps: { type: 'string', default: '2' },
    records: { type: 'string', default: '300000' },
  },
});
const configs = values.configs.split(',').map((c) => c.split('x').map(Number) as [number, number]);
const stack = await startStack({ brokers: 1, registry: false });
try {
  const base = { bootstrap: stack.bootstrap, recordSize: 100, partitions: 6 };
  await oursOnce({ ...base, records: 50_000, producers: 1, inFlight: 1 }); // warm-up: JIT, first topic
  for (let rep = 0; rep < Number(values.reps); rep++) {
    for (const [producers, inFlight] of rep % 2 ? [...configs].reverse() : configs) {
      const r = await oursOnce({ ...base, records: Number(values.records), producers, inFlight });
      console.log(`${producers}x${inFlight} ${r} records/s, load ${loadavg()[0]!.toFixed(1)}`);
    }
  }
} finally {
  await stack.stop();
}
