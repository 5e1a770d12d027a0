/**
 * Throughput of the bulk generator, encoded, on one core: `npx tsx generators/bench.ts [--json] [--seconds N]`, or
 * `streamproof bench generators` (which calls {@link benchGenerators}).
 *
 * Each case warms up (so V8 has optimised the hot loop), then times whole batches of 65_536 records for at least
 * `--seconds` (default 2) and reports events/s and MB/s. Generation includes the PRNG, the traffic model and the
 * encoding into the batch buffer: everything a producer needs except the network. For comparison it also times
 * avsc's `toBuffer` on the same events, the baseline the hand-written writer replaced.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { type BulkFormat, createBulkGenerator } from './bulk.ts';
import type { SchemaVersion } from './event.ts';
import { EVENT_TYPES_AVRO } from './schemas.ts';

export interface CaseResult {
  case: string;
  format: BulkFormat | 'avsc-toBuffer';
  schemaVersion: SchemaVersion;
  events: number;
  seconds: number;
  eventsPerSec: number;
  /**
   * Events per second of this process's CPU time (user + system): the per-core rate. On a busy machine the wall-clock
   * rate counts the time other processes held the core; this one does not (caches are still shared).
   */
  eventsPerCpuSec: number;
  mbPerSec: number;
  bytesPerEvent: number;
}

const BATCH = 65_536;

function benchBulk(format: BulkFormat, schemaVersion: SchemaVersion, minSeconds: number): CaseResult {
  const gen = createBulkGenerator({ seed: 42, format, schemaVersion, schemaId: 7 });
  for (let i = 0; i < 30; i++) gen.nextBatch(BATCH); // warm-up: tier-up to optimised code
  let events = 0;
  let bytes = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < minSeconds * 1000) {
    const b = gen.nextBatch(BATCH);
    events += b.count;
    bytes += b.bounds[2 * b.count]!;
    t = performance.now();
  }
  const seconds = (t - t0) / 1000;
  return result(`bulk ${format} v${schemaVersion}`, format, schemaVersion, events, bytes, seconds, cpuSeconds(c0));
}

function benchAvsc(schemaVersion: SchemaVersion, minSeconds: number): CaseResult {
  const gen = createBulkGenerator({ seed: 42, format: 'avro', schemaVersion, users: 1000 });
  const batch = gen.nextBatch(4096);
  const events = Array.from({ length: batch.count }, (_, i) => batch.event(i));
  const type = EVENT_TYPES_AVRO[schemaVersion];
  for (let i = 0; i < 50_000; i++) type.toBuffer(events[i % events.length]);
  let n = 0;
  let bytes = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < minSeconds * 1000) {
    for (let i = 0; i < events.length; i++) bytes += type.toBuffer(events[i]).length;
    n += events.length;
    t = performance.now();
  }
  return result(
    `avsc toBuffer v${schemaVersion} (baseline)`,
    'avsc-toBuffer',
    schemaVersion,
    n,
    bytes,
    (t - t0) / 1000,
    cpuSeconds(c0),
  );
}

function result(
  name: string,
  format: CaseResult['format'],
  schemaVersion: SchemaVersion,
  events: number,
  bytes: number,
  seconds: number,
  cpu: number,
): CaseResult {
  return {
    case: name,
    format,
    schemaVersion,
    events,
    seconds: round(seconds, 3),
    eventsPerSec: Math.round(events / seconds),
    eventsPerCpuSec: Math.round(events / cpu),
    mbPerSec: round(bytes / seconds / 1e6, 1),
    bytesPerEvent: round(bytes / events, 1),
  };
}

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(since);
  return (c.user + c.system) / 1e6;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export interface GeneratorBench {
  node: string;
  batch: number;
  /** Logical CPUs of the machine; every case runs on one of them (the numbers are per core). */
  cpus: number;
  /** os.loadavg() before and after: on a shared machine, read the numbers against the load. */
  loadavgBefore: number[];
  loadavgAfter: number[];
  results: CaseResult[];
}

/** Every case in one process, one after the other, each for at least `seconds`. */
export function benchGenerators(seconds = 2): GeneratorBench {
  const loadavgBefore = os.loadavg().map((x) => round(x, 2));
  const results: CaseResult[] = [
    benchBulk('avro', 3, seconds),
    benchAvsc(3, seconds),
    benchBulk('json', 3, seconds),
    benchBulk('avro', 1, seconds),
    benchBulk('json', 1, seconds),
  ];
  return {
    node: process.version,
    batch: BATCH,
    cpus: os.availableParallelism(),
    loadavgBefore,
    loadavgAfter: os.loadavg().map((x) => round(x, 2)),
    results,
  };
}

export function formatGeneratorBench(b: GeneratorBench): string {
  const lines = [
    `bulk generator, one core of ${b.cpus}, node ${b.node}, batches of ${b.batch}, load average ${b.loadavgBefore.join(' ')} -> ${b.loadavgAfter.join(' ')}`,
  ];
  for (const r of b.results) {
    lines.push(
      `${r.case.padEnd(30)} ${(r.eventsPerSec / 1e6).toFixed(2).padStart(6)} M events/s  ${(r.eventsPerCpuSec / 1e6).toFixed(2).padStart(6)} M/CPU-s  ${String(r.mbPerSec).padStart(7)} MB/s  ${r.bytesPerEvent} B/event`,
    );
  }
  return lines.join('\n');
}

function main(): void {
  const { values } = parseArgs({
    options: { json: { type: 'boolean', default: false }, seconds: { type: 'string', default: '2' } },
  });
  const seconds = Number(values.seconds);
  if (!(seconds > 0)) {
    console.error(`--seconds: expected a positive number, got ${values.seconds}`);
    process.exit(64);
  }
  const b = benchGenerators(seconds);
  console.log(values.json ? JSON.stringify(b, null, 2) : formatGeneratorBench(b));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
