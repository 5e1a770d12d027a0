/**
 * `streamproof bench [target...] [--json] [--seconds N] [--record-size B] [--records N] [--reps R] [--stack own|running]`:
 * the project's throughput benchmarks behind one command, side by side in one run.
 *
 * Model: a bench *target* is a name, a line of description, and `run` returning rows (what the table shows) plus its
 * data (what --json carries under the target's name). Targets run one after the other, never in parallel, so they do
 * not steal each other's cores. With no target every target runs, on ONE stack the command starts itself (1 broker,
 * Toxiproxy, the registry) and stops at the end (`--stack running` attaches to `streamproof stack up` instead):
 *   producer    our load driver (fast sender) at its maximum rate vs Kafka's ProducerPerformance, alternating,
 *               medians of --reps, the same record size and partitions; ratio = ours / kafka
 *   pipeline    the reference pipeline's highest sustained exactly-once rate (a search over offered rates, --seconds
 *               per probe; --pipeline-rate N: one probe), its latency there and at half of it, the raw produce rate
 *               (ours, from `producer` when it ran in the same invocation), and a Kafka Streams exactly_once_v2
 *               copy at the same rates (--no-peer: without it)
 *   generators  bulk generator rate;  checkers  exactly-once checker verify rate
 * --json prints one document: `{ producer: { ours, kafka, ratio, ... }, pipeline, generators, checkers, machine }`.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { benchGenerators } from '../../generators/bench.ts';
import type { PipelineBench } from '../bench/pipeline.ts';
import type { ProducerBench } from '../bench/producer.ts';
import type { StartedStack } from '../stack/stack.ts';
import { nodeArgs } from '../util/entry.ts';
import { StreamproofError } from '../util/errors.ts';
import type { Progress } from '../util/progress.ts';
import { intFlag, parse } from './args.ts';
import { type Command, output } from './command.ts';
import { attachRunningStack, stackFlag } from './flags.ts';

export interface BenchRow {
  case: string;
  value: number;
  unit: string;
  /** Optional context for people (bytes per event, the target met or not). */
  note?: string;
}

export interface BenchTargetResult {
  target: string;
  seconds: number;
  rows: BenchRow[];
  data: unknown;
}

export interface BenchContext {
  seconds: number;
  recordSize: number;
  records: number;
  reps: number;
  partitions: number;
  producers: number;
  inFlight: number;
  /** One pipeline probe at this rate instead of a search. */
  pipelineRate: number | undefined;
  /** Run the Kafka Streams peer beside the reference pipeline. */
  peer: boolean;
  progress: Progress;
  /** The run's one stack, started on first use. */
  stack(opts: { registry: boolean }): Promise<StartedStack>;
  /** Results of the targets that ran before (pipeline reads the producer's). */
  earlier: Map<string, unknown>;
}

export interface BenchTarget {
  name: string;
  description: string;
  needsStack: boolean;
  run(ctx: BenchContext): Promise<Omit<BenchTargetResult, 'target' | 'seconds'>>;
}

const producer: BenchTarget = {
  name: 'producer',
  description: "our producer (load driver, fast sender) at max rate vs Kafka's ProducerPerformance, same broker",
  needsStack: true,
  async run(ctx) {
    const stack = await ctx.stack({ registry: false });
    const { benchProducer } = await import('../bench/producer.ts');
    const r = await benchProducer({
      bootstrap: stack.bootstrap,
      classpath: stack.status().toolsClasspath,
      records: ctx.records,
      recordSize: ctx.recordSize,
      partitions: ctx.partitions,
      reps: ctx.reps,
      producers: ctx.producers,
      inFlight: ctx.inFlight,
      progress: ctx.progress,
    });
    const lat = (s: ProducerBench['ours'] | ProducerBench['kafka']) =>
      `p50/p95/p99/max ${s.p50Ms}/${s.p95Ms}/${s.p99Ms}/${s.maxMs} ms`;
    return {
      rows: [
        {
          case: 'ours (fast sender)',
          value: r.ours.recordsPerSec,
          unit: 'records/s',
          note: `${r.ours.mbPerSec} MB/s, ${lat(r.ours)}, ${r.ours.producers} producer(s) x ${r.ours.inFlight} in flight, acked ${r.ours.acked}/${r.ours.sent}`,
        },
        {
          case: 'kafka ProducerPerformance',
          value: r.kafka.recordsPerSec,
          unit: 'records/s',
          note: `${r.kafka.mbPerSec} MB/s, ${lat(r.kafka)}`,
        },
        {
          case: 'ratio ours / kafka',
          value: Math.round(r.ratio * 100) / 100,
          unit: 'x',
          note: `median of ${ctx.reps}: ours [${r.ours.reps.join(', ')}], kafka [${r.kafka.reps.join(', ')}]`,
        },
      ],
      data: r,
    };
  },
};

const pipeline: BenchTarget = {
  name: 'pipeline',
  description: "reference pipeline's exactly-once throughput (saturation probe) vs the raw produce rate",
  needsStack: true,
  async run(ctx) {
    const stack = await ctx.stack({ registry: true });
    const { benchPipeline } = await import('../bench/pipeline.ts');
    let raw = (ctx.earlier.get('producer') as ProducerBench | undefined)?.ours.recordsPerSec ?? null;
    if (raw === null) {
      const { oursOnce } = await import('../bench/producer.ts');
      ctx.progress({ phase: 'bench', message: 'pipeline: raw produce rate (ours, 100 000 records)' });
      raw = await oursOnce({
        bootstrap: stack.bootstrap,
        records: 100_000,
        recordSize: ctx.recordSize,
        partitions: ctx.partitions,
        producers: ctx.producers,
        inFlight: ctx.inFlight,
      });
    }
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const r: PipelineBench = await benchPipeline(stack, {
      seconds: ctx.seconds,
      ...(ctx.pipelineRate !== undefined ? { rate: ctx.pipelineRate } : {}),
      start: 10_000,
      max: 160_000,
      points: 6,
      sustainedP95Ms: 2_000,
      rawProduceRecordsPerSec: raw,
      peer: ctx.peer,
      outDir: mkdtempSync(join(tmpdir(), 'streamproof-bench-peer-')),
      progress: ctx.progress,
    });
    const lat = (p: { latencyMs: { p50: number; p95: number; p99: number } } | null) =>
      p === null ? '-' : `t2t p50/p95/p99 ${p.latencyMs.p50}/${p.latencyMs.p95}/${p.latencyMs.p99} ms`;
    const peerRows: BenchRow[] =
      'skipped' in r.peer
        ? [{ case: 'peer: Kafka Streams EOS copy', value: 0, unit: 'events/s', note: `skipped: ${r.peer.skipped}` }]
        : r.peer.points.map((p) => ({
            case: `peer: Kafka Streams EOS copy at ${p.offeredPerSec}/s`,
            value: p.observed,
            unit: 'records copied',
            note: `${p.keptUp ? 'sustained' : `not sustained (${p.verdict})`}; e2e p50/p95/p99 ${p.latencyMs ? `${p.latencyMs.p50}/${p.latencyMs.p95}/${p.latencyMs.p99} ms` : '-'}; lost ${p.lost}, duplicated ${p.duplicated}`,
          }));
    return {
      rows: [
        {
          case: 'exactly-once, highest sustained (1 attributor)',
          value: r.maxSustainedPerSec ?? 0,
          unit: 'events/s',
          note: `${lat(r.atMax)}; probes ${r.probes.map((p) => `${p.offeredPerSec}${p.sustained ? '✓' : '✗'}`).join(' ')}`,
        },
        {
          case: 'exactly-once at half of it',
          value: r.atHalf?.offeredPerSec ?? 0,
          unit: 'events/s',
          note: lat(r.atHalf),
        },
        {
          case: 'raw produce (ours)',
          value: r.rawProduceRecordsPerSec ?? 0,
          unit: 'records/s',
          note: `highest sustained / raw = ${r.ratioToRawProduce ?? '-'}`,
        },
        ...peerRows,
      ],
      data: r,
    };
  },
};

const generators: BenchTarget = {
  name: 'generators',
  description: 'bulk generator: events encoded per second of one core (avro, json), beside avsc toBuffer',
  needsStack: false,
  async run({ seconds }) {
    const b = benchGenerators(seconds);
    return {
      rows: b.results.map((r) => ({
        case: r.case,
        value: r.eventsPerCpuSec,
        unit: 'events/CPU-s',
        note: `wall ${(r.eventsPerSec / 1e6).toFixed(2)} M/s, ${r.mbPerSec} MB/s, ${r.bytesPerEvent} B/event`,
      })),
      data: b,
    };
  },
};

/** harness/checkers/bench.ts runs as its own process (it is a script; a fresh heap also keeps the numbers apart). */
const checkersScript = fileURLToPath(new URL('../checkers/bench.ts', import.meta.url));

const checkers: BenchTarget = {
  name: 'checkers',
  description: 'exactly-once checker: verify rate on a 10M-event history (8 producers)',
  needsStack: false,
  async run() {
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        [...nodeArgs(checkersScript, import.meta.resolve('tsx')), '--json'],
        { maxBuffer: 16 << 20, timeout: 600_000 },
        // The script exits 1 when the 5M/s target is not met: that is a result, not a failure.
        (err, out, errOut) =>
          out.trim().startsWith('{')
            ? resolve(out)
            : reject(new StreamproofError('INTERNAL', `checkers bench failed: ${err?.message ?? ''} ${errOut}`)),
      );
    });
    const r = JSON.parse(stdout) as {
      events: number;
      eventsPerSec: number;
      targetEventsPerSec: number;
      meetsTarget: boolean;
      recordIngestEventsPerSec: number;
      checkMs: { median: number };
    };
    return {
      rows: [
        {
          case: `exactly-once check (${r.events / 1e6}M events)`,
          value: r.eventsPerSec,
          unit: 'events/s',
          note: `median ${r.checkMs.median} ms; target ${r.targetEventsPerSec / 1e6}M/s ${r.meetsTarget ? 'met' : 'NOT met'}`,
        },
        { case: 'History.record ingest', value: r.recordIngestEventsPerSec, unit: 'events/s', note: '3 records/event' },
      ],
      data: r,
    };
  },
};

export const TARGETS: readonly BenchTarget[] = [producer, pipeline, generators, checkers];

/** Run order: the stack-free targets first (before the broker JVM shares the cores), then the stack ones. */
const RUN_ORDER = ['generators', 'checkers', 'producer', 'pipeline'];

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 1e6) return `${(v / 1e6).toFixed(2)} M`;
  return Number.isInteger(v) ? v.toLocaleString('en-US') : String(v);
}

export function table(results: BenchTargetResult[]): string {
  const lines: string[] = [];
  const prod = results.find((r) => r.target === 'producer')?.data as ProducerBench | undefined;
  if (prod !== undefined) {
    const ms = (v: number) => (Number.isFinite(v) ? String(Math.round(v * 10) / 10) : String(v));
    const rows: [string, string, string][] = [
      ['records/s', fmt(prod.ours.recordsPerSec), fmt(prod.kafka.recordsPerSec)],
      ['MB/s (values)', String(prod.ours.mbPerSec), String(prod.kafka.mbPerSec)],
      ['latency p50 ms', ms(prod.ours.p50Ms), ms(prod.kafka.p50Ms)],
      ['latency p95 ms', ms(prod.ours.p95Ms), ms(prod.kafka.p95Ms)],
      ['latency p99 ms', ms(prod.ours.p99Ms), ms(prod.kafka.p99Ms)],
      ['latency max ms', ms(prod.ours.maxMs), ms(prod.kafka.maxMs)],
      ['reps (records/s)', prod.ours.reps.map(fmt).join(' '), prod.kafka.reps.map(fmt).join(' ')],
      [
        'in topic / records',
        `${prod.ours.topicRecords.join(' ')} / ${prod.ours.records}`,
        `${prod.kafka.topicRecords.join(' ')} / ${prod.kafka.records}`,
      ],
      ['acked / sent', `${fmt(prod.ours.acked)} / ${fmt(prod.ours.sent)}`, '-'],
    ];
    lines.push(
      `producer: ${prod.recordSize}-byte records, ${prod.partitions} partitions, acks=all, idempotent; ours ${prod.ours.producers} producer(s) x ${prod.ours.inFlight} requests in flight; median of ${prod.ours.reps.length}`,
    );
    lines.push(`  ${''.padEnd(20)} ${'ours'.padStart(22)} ${'kafka'.padStart(22)}`);
    for (const [k, a, b] of rows) lines.push(`  ${k.padEnd(20)} ${a.padStart(22)} ${b.padStart(22)}`);
    lines.push(`  ratio ours / kafka: ${prod.ratio.toFixed(2)}x`);
    lines.push('');
  }
  const rest = results.filter((r) => r.target !== 'producer');
  if (rest.length > 0) {
    const rows = rest.flatMap((r) => r.rows.map((row) => ({ target: r.target, ...row })));
    const w = Math.max(4, ...rows.map((r) => r.case.length));
    lines.push(`${'target'.padEnd(11)} ${'case'.padEnd(w)} ${'rate'.padStart(14)}  unit           note`);
    for (const r of rows) {
      lines.push(
        `${r.target.padEnd(11)} ${r.case.padEnd(w)} ${fmt(r.value).padStart(14)}  ${r.unit.padEnd(14)} ${r.note ?? ''}`.trimEnd(),
      );
    }
  }
  return lines.join('\n');
}

async function machine(javaVersion: string | null) {
  let model = 'unknown';
  try {
    model =
      /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ??
      os.cpus()[0]?.model ??
      'unknown';
  } catch {
    model = os.cpus()[0]?.model ?? 'unknown';
  }
  const { versions } = await import('../stack/versions.ts');
  return {
    cpus: os.availableParallelism(),
    model,
    memory: os.totalmem(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    java: javaVersion,
    kafka: versions.kafka,
    loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

const USAGE =
  'bench [producer|pipeline|generators|checkers|all ...] [--json] [--seconds N] [--record-size 100] [--records N] [--reps 3] [--partitions 6] [--producers 1] [--in-flight 3] [--pipeline-rate N] [--no-peer] [--stack own|running]';

export const benchCommand: Command = {
  name: 'bench',
  usage: USAGE,
  async run(argv) {
    const usage = `streamproof ${USAGE}`;
    const { values, positionals } = parse(
      argv,
      {
        json: { type: 'boolean' },
        seconds: { type: 'string' },
        'record-size': { type: 'string' },
        records: { type: 'string' },
        reps: { type: 'string' },
        partitions: { type: 'string' },
        producers: { type: 'string' },
        'in-flight': { type: 'string' },
        'pipeline-rate': { type: 'string' },
        'no-peer': { type: 'boolean' },
        stack: { type: 'string' },
      },
      usage,
    );
    if (values.help) {
      process.stdout.write(
        `usage: ${usage}\n${TARGETS.map((t) => `  ${t.name.padEnd(11)} ${t.description}`).join('\n')}\n`,
      );
      return 0;
    }
    const secondsRaw = values.seconds as string | undefined;
    const seconds = secondsRaw === undefined ? undefined : Number(secondsRaw);
    if (seconds !== undefined && !(Number.isFinite(seconds) && seconds > 0 && seconds <= 600)) {
      throw new StreamproofError('USAGE', `--seconds: expected a number of seconds in (0, 600], got "${secondsRaw}"`);
    }
    const recordSize =
      intFlag('record-size', values['record-size'] as string | undefined, { min: 100, max: 1_000_000 }) ?? 100;
    const records =
      intFlag('records', values.records as string | undefined, { min: 1000, max: 100_000_000 }) ?? 500_000;
    const reps = intFlag('reps', values.reps as string | undefined, { min: 1, max: 21 }) ?? 3;
    const partitions = intFlag('partitions', values.partitions as string | undefined, { min: 1, max: 64 }) ?? 6;
    const producers = intFlag('producers', values.producers as string | undefined, { min: 1, max: 64 }) ?? 1;
    const inFlight = intFlag('in-flight', values['in-flight'] as string | undefined, { min: 1, max: 5 }) ?? 3;
    const pipelineRate = intFlag('pipeline-rate', values['pipeline-rate'] as string | undefined, {
      min: 100,
      max: 1_000_000,
    });
    const stackMode = stackFlag(values.stack, 'start a 1-broker stack for this bench');
    const names = positionals.length === 0 ? ['all'] : positionals;
    const chosen = new Set<string>();
    for (const n of names) {
      const found = n === 'all' ? TARGETS : TARGETS.filter((t) => t.name === n);
      if (found.length === 0) {
        throw new StreamproofError(
          'USAGE',
          `unknown bench target "${n}": expected one of ${[...TARGETS.map((t) => t.name), 'all'].join(', ')}`,
        );
      }
      for (const t of found) chosen.add(t.name);
    }
    const order = RUN_ORDER.filter((n) => chosen.has(n)).map((n) => TARGETS.find((t) => t.name === n)!);
    const out = output(!!values.json);
    let stack: StartedStack | undefined;
    const wantRegistry = chosen.has('pipeline');
    const ctx: BenchContext = {
      seconds: seconds ?? 2,
      recordSize,
      records,
      reps,
      partitions,
      producers,
      inFlight,
      pipelineRate,
      peer: !values['no-peer'],
      progress: out.progress,
      earlier: new Map(),
      async stack() {
        if (stack !== undefined) return stack;
        if (stackMode === 'running') {
          stack = await attachRunningStack();
        } else {
          const { startStack } = await import('../stack/stack.ts');
          out.progress({
            phase: 'bench',
            message: `starting a 1-broker stack${wantRegistry ? ' with the registry' : ''}`,
          });
          stack = await startStack({ brokers: 1, registry: wantRegistry, progress: out.progress });
        }
        return stack;
      },
    };
    const results: BenchTargetResult[] = [];
    const stop = () => {
      const s = stack;
      stack = undefined;
      return s?.stop() ?? Promise.resolve();
    };
    const onSignal = () => {
      void stop().finally(() => process.exit(130));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      for (const t of order) {
        out.progress({ phase: 'bench', message: `${t.name}: ${t.description}` });
        const t0 = performance.now();
        const r = await t.run({ ...ctx, seconds: seconds ?? (t.name === 'pipeline' ? 10 : 2) });
        ctx.earlier.set(t.name, r.data);
        results.push({ target: t.name, seconds: Math.round(performance.now() - t0) / 1000, ...r });
      }
    } finally {
      await stop();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    const javaVersion = (results.find((r) => r.target === 'producer')?.data as ProducerBench | undefined)?.kafka.java;
    const m = await machine(javaVersion ?? (await (await import('../stack/java.ts')).findJava(17))?.version ?? null);
    if (out.json) {
      const doc: Record<string, unknown> = {};
      for (const name of ['producer', 'pipeline', 'generators', 'checkers']) {
        const r = results.find((x) => x.target === name);
        if (r !== undefined) doc[name] = r.data;
      }
      doc.machine = m;
      doc.command = `streamproof bench ${argv.join(' ')}`.trim();
      out.data(doc);
    } else {
      out.print(table(results));
      out.print(
        `machine: ${m.cpus} CPUs (${m.model}), ${m.memoryGiB} GiB, node ${m.node}, java ${m.java}, kafka ${m.kafka}, load average ${m.loadavg.join(' ')}`,
      );
    }
    return 0;
  },
};
