/**
 * A CPU profile of our producer's produce window only (not the stack start): ours alone on a fresh 1-broker stack,
 * a warm-up run, then one profiled run (node:inspector, 0.5 ms sampling). Prints records/s, the process's CPU per
 * event and its share of one core; writes `ours-<lanes>x<inFlight>.cpuprofile` into --out (summarise it with
 * `npx tsx reference-pipeline/bench.ts --summarise DIR`).
 *
 *   npx tsx harness/bench/profile-producer.ts [--producers 1] [--in-flight 3] [--records 300000] [--out DIR]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startStack } from '../stack/stack.ts';
import { oursOnce } from './producer.ts';

const { values } = parseArgs({
  options: {
    producers: { type: 'string', default: '1' },
    'in-flight': { type: 'string', default: '3' },
    records: { type: 'string', default: '300000' },
    out: { type: 'string', default: join(tmpdir(), 'streamproof-producer-profile') },
  },
});
const producers = Number(values.producers);
const inFlight = Number(values['in-flight']);
const records = Number(values.records);
const stack = await startStack({ brokers: 1, registry: false });
const session = new Session();
session.connect();
const post = <T>(method: string, params: object = {}) =>
  new Promise<T>((resolve, reject) => session.post(method, params, (e, r) => (e ? reject(e) : resolve(r as T))));
try {
  const o = { bootstrap: stack.bootstrap, records, recordSize: 100, partitions: 6, producers, inFlight };
  await oursOnce({ ...o, records: 50_000 });
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 500 });
  await post('Profiler.start');
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const rate = await oursOnce(o);
  const c = process.cpuUsage(c0);
  const wall = performance.now() - t0;
  const { profile } = await post<{ profile: unknown }>('Profiler.stop');
  mkdirSync(values.out, { recursive: true });
  const file = join(values.out, `ours-${producers}x${inFlight}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  const cpuUs = c.user + c.system;
  console.log(
    JSON.stringify({
      producers,
      inFlight,
      recordsPerSec: rate,
      cpuUsPerEvent: +(cpuUs / records).toFixed(2),
      cpuShareOfOneCore: +(cpuUs / 1000 / wall).toFixed(2),
      loadavg: loadavg(),
      profile: file,
    }),
  );
} finally {
  session.disconnect();
  await stack.stop();
}
