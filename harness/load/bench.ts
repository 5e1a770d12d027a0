/**
 * Load benchmark: how many events/s the driver offers and gets acked with acks=all on this machine.
 *
 *   npx tsx harness/load/bench.ts --fake --rate 200000            # driver + generator + History, no Kafka
 *   npx tsx harness/load/bench.ts --rate 20000,50000 --seconds 10 # real one-broker stack, direct listener
 *   npx tsx harness/load/bench.ts --rate 2000 --proxied --producers 3 --compression lz4 --json
 *   npx tsx harness/load/bench.ts --rate 100000 --client fast --producers 2   # the fast sender (fast-sender.ts)
 *
 * Starts (and stops) its own stack unless --fake. Prints one line per rate (JSON with --json): offered rate,
 * acked, ack latency, schedule lag, CPU share of the process, event-loop delay, and the load average (the dev
 * machine is shared: read the numbers with it).
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { History } from '../history/index.ts';
import { ensureTopic } from '../kafka/clients.ts';
import { startStack } from '../stack/stack.ts';
import { systemClock } from './clock.ts';
import { type LaneSender, LoadDriver, type LoadSummary } from './driver.ts';
import { startLoad } from './load.ts';
import { type Compression, resolveLoadOptions } from './options.ts';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '20000' },
    seconds: { type: 'string', default: '10' },
    producers: { type: 'string', default: '1' },
    partitions: { type: 'string', default: '6' },
    compression: { type: 'string', default: 'none' },
    client: { type: 'string', default: 'platformatic' },
    proxied: { type: 'boolean', default: false },
    fake: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const rates = values.rate.split(',').map(Number);
const durationMs = Number(values.seconds) * 1000;
const producers = Number(values.producers);
const partitions = Number(values.partitions);

function line(rate: number, s: LoadSummary, cpuUs: number, eld: ReturnType<typeof monitorEventLoopDelay>) {
  return {
    mode: values.fake ? 'fake-sender' : values.proxied ? 'proxied' : 'direct',
    rate,
    producers: s.producers,
    compression: values.compression,
    client: values.client,
    offered: s.offered,
    offeredRate: Math.round(s.offeredRate),
    acked: s.acked,
    failed: s.failed,
    unknown: s.unknown,
    ackP50Ms: s.ackLatency?.p50Ms ?? null,
    ackP99Ms: s.ackLatency?.p99Ms ?? null,
    ackMaxMs: s.ackLatency?.maxMs ?? null,
    lagMaxMs: s.scheduleLag.maxMs,
    lateOffers: s.scheduleLag.lateOffers,
    requests: s.requests,
    meanBatch: Math.round(s.meanBatch),
    cpuUsPerEvent: s.offered === 0 ? null : +(cpuUs / s.offered).toFixed(2),
    cpuShare: +(cpuUs / 1000 / s.durationMs).toFixed(2),
    loopDelayMaxMs: +(eld.max / 1e6).toFixed(1),
    loadavg1: +loadavg()[0]!.toFixed(1),
  };
}

function print(o: Record<string, unknown>) {
  if (values.json) console.log(JSON.stringify(o));
  else
    console.log(
      Object.entries(o)
        .map(([k, v]) => `${k}=${v}`)
        .join(' '),
    );
}

async function measure(rate: number, run: () => Promise<LoadSummary>) {
  const eld = monitorEventLoopDelay({ resolution: 5 });
  eld.enable();
  const cpu0 = process.cpuUsage();
  const s = await run();
  const cpu = process.cpuUsage(cpu0);
  eld.disable();
  print(line(rate, s, cpu.user + cpu.system, eld));
}

if (values.fake) {
  // A sender that acks on the next macrotask: the cost of generator + pacing + History without any client.
  for (const rate of rates) {
    const history = new History();
    const sender = (): LaneSender => ({
      send: (_m, done) => setImmediate(done),
      outcomes: () => () => 'unknown',
      describe: String,
      reset() {},
      close: async () => {},
    });
    const cfg = resolveLoadOptions({ bootstrap: 'fake:1', topic: 't', history, rate, duration: durationMs, producers });
    const lanes = Math.min(producers, partitions);
    await measure(
      rate,
      () =>
        new LoadDriver(cfg, {
          history,
          clock: systemClock,
          partitions,
          senders: Array.from({ length: lanes }, sender),
        }).start().done,
    );
  }
} else {
  const stack = await startStack({ brokers: 1, registry: false });
  try {
    for (const rate of rates) {
      const topic = `bench-${randomUUID()}`;
      await ensureTopic(stack.bootstrap, topic, { partitions });
      await measure(
        rate,
        () =>
          startLoad({
            bootstrap: values.proxied ? stack.proxiedBootstrap : stack.bootstrap,
            topic,
            history: new History(),
            generator: { seed: 1 },
            rate,
            duration: durationMs,
            producers,
            compression: values.compression as Compression,
            client: values.client as 'platformatic' | 'fast',
          }).done,
      );
    }
  } finally {
    await stack.stop();
  }
}
