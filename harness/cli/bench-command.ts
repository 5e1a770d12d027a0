/**
 * `streamproof bench [target...] [--json] [--seconds N]`: the project's throughput benchmarks behind one command.
 *
 * Model: a bench *target* is a name, a line of description, and `run` returning rows (what the table shows) plus its
 * raw data (what --json carries). Targets run one after the other, never in parallel, so they do not steal each
 * other's cores. Adding a bench (producer vs Kafka's ProducerPerformance, the pipeline end to end) is one more entry
 * in TARGETS; `all` runs every target that needs no stack.
 */
import { execFile } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { benchGenerators } from '../../generators/bench.ts';
import { StreamproofError } from '../util/errors.ts';
import { parse } from './args.ts';
import { type Command, output } from './command.ts';

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

export interface BenchTarget {
  name: string;
  description: string;
  /** Targets that need a running stack are left out of `all`. */
  needsStack: boolean;
  run(opts: { seconds: number }): Promise<Omit<BenchTargetResult, 'target' | 'seconds'>>;
}

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
        ['--import', import.meta.resolve('tsx'), checkersScript, '--json'],
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

export const TARGETS: readonly BenchTarget[] = [generators, checkers];

function table(results: BenchTargetResult[]): string {
  const rows = results.flatMap((r) => r.rows.map((row) => ({ target: r.target, ...row })));
  const w = Math.max(4, ...rows.map((r) => r.case.length));
  const lines = [`${'target'.padEnd(11)} ${'case'.padEnd(w)} ${'rate'.padStart(14)}  unit           note`];
  for (const r of rows) {
    const rate = r.value >= 1e6 ? `${(r.value / 1e6).toFixed(2)} M` : r.value.toLocaleString('en-US');
    lines.push(
      `${r.target.padEnd(11)} ${r.case.padEnd(w)} ${rate.padStart(14)}  ${r.unit.padEnd(14)} ${r.note ?? ''}`.trimEnd(),
    );
  }
  return lines.join('\n');
}

export const benchCommand: Command = {
  name: 'bench',
  usage: `bench [${[...TARGETS.map((t) => t.name), 'all'].join('|')}] [--seconds N] [--json]`,
  async run(argv) {
    const usage = `streamproof ${benchCommand.usage}`;
    const { values, positionals } = parse(argv, { json: { type: 'boolean' }, seconds: { type: 'string' } }, usage);
    if (values.help) {
      process.stdout.write(
        `usage: ${usage}\n${TARGETS.map((t) => `  ${t.name.padEnd(11)} ${t.description}`).join('\n')}\n`,
      );
      return 0;
    }
    const secondsRaw = values.seconds as string | undefined;
    const seconds = secondsRaw === undefined ? 2 : Number(secondsRaw);
    if (!(Number.isFinite(seconds) && seconds > 0 && seconds <= 600)) {
      throw new StreamproofError('USAGE', `--seconds: expected a number of seconds in (0, 600], got "${secondsRaw}"`);
    }
    const names = positionals.length === 0 ? ['all'] : positionals;
    const chosen: BenchTarget[] = [];
    for (const n of names) {
      const found = n === 'all' ? TARGETS.filter((t) => !t.needsStack) : TARGETS.filter((t) => t.name === n);
      if (found.length === 0) {
        throw new StreamproofError(
          'USAGE',
          `unknown bench target "${n}": expected one of ${[...TARGETS.map((t) => t.name), 'all'].join(', ')}`,
        );
      }
      for (const t of found) if (!chosen.includes(t)) chosen.push(t);
    }
    const out = output(!!values.json);
    const results: BenchTargetResult[] = [];
    for (const t of chosen) {
      out.progress({ phase: 'bench', message: `${t.name}: ${t.description}` });
      const t0 = performance.now();
      const r = await t.run({ seconds });
      results.push({ target: t.name, seconds: Math.round(performance.now() - t0) / 1000, ...r });
    }
    const machine = { node: process.version, cpus: os.availableParallelism(), loadavg: os.loadavg() };
    if (out.json) out.data({ machine, results });
    else {
      out.print(table(results));
      out.print(
        `node ${machine.node}, ${machine.cpus} CPUs, load average ${machine.loadavg.map((x) => x.toFixed(2)).join(' ')}`,
      );
    }
    return 0;
  },
};
