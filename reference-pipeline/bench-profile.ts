/**
 * Summaries of the reference bench (bench.ts): latency percentiles, and CPU profiles: the preload that takes one in a component, and the summary of a
 * `.cpuprofile` (self time per function and per bucket: ours, kafka client, avro, duckdb, node internals, gc, idle).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

export function percentiles(values: number[]): Percentiles {
  const s = [...values].sort((a, b) => a - b);
  return {
    p50: Math.round(percentile(s, 0.5)),
    p95: Math.round(percentile(s, 0.95)),
    p99: Math.round(percentile(s, 0.99)),
    max: Math.round(s[s.length - 1] ?? Number.NaN),
  };
}

export interface ProfileEntry {
  selfMs: number;
  percent: number;
  fn: string;
  where: string;
}

export interface ProfileSummary {
  file: string;
  component: string;
  totalMs: number;
  /** Share of sampled time by bucket: ours, kafka client, avro, duckdb, node internals, gc, idle, other. */
  buckets: Record<string, number>;
  top: ProfileEntry[];
}

/**
 * Preload of a profiled component: starts the V8 sampling profiler (1 ms, as --cpu-prof) and writes
 * `CPU.<pid>.0.cpuprofile` into $STREAMPROOF_BENCH_CPU_PROF_DIR on exit (a same-thread inspector session answers
 * synchronously, so this works inside the 'exit' handler; the components exit through process.exit on SIGTERM).
 */
export const CPU_PROF_PRELOAD = `import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
const dir = process.env.STREAMPROOF_BENCH_CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  session.post('Profiler.start');
  process.on('exit', () => {
    session.post('Profiler.stop', (err, res) => {
      if (!err) writeFileSync(join(dir, 'CPU.' + process.pid + '.0.cpuprofile'), JSON.stringify(res.profile));
    });
  });
}
`;

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }[];
  samples: number[];
  timeDeltas: number[];
}

function bucketOf(fn: string, url: string): string {
  if (fn === '(garbage collector)') return 'gc';
  if (fn === '(idle)') return 'idle';
  if (fn === '(program)') return 'program (native, unattributed)';
  if (url.includes('@platformatic/kafka')) return 'kafka client';
  if (url.includes('/avsc/')) return 'avro (avsc)';
  if (url.includes('@duckdb')) return 'duckdb';
  if (url.includes('/node_modules/')) return 'other deps';
  if (url.includes('/reference-pipeline/') || url.includes('/generators/')) return 'ours';
  if (url.startsWith('node:') || url === '') return 'node internals / native';
  return 'other';
}

/** Self time per function (name + file + line) of one `.cpuprofile`, top `n`, and time per bucket. */
export function summariseProfile(file: string, n = 15): ProfileSummary {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(prof.nodes.map((x) => [x.id, x]));
  const self = new Map<number, number>();
  prof.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
  });
  const agg = new Map<string, ProfileEntry>();
  const buckets: Record<string, number> = {};
  let total = 0;
  for (const [id, us] of self) {
    const cf = byId.get(id)!.callFrame;
    const url = cf.url.replace(/^file:\/\//, '');
    const short = url.includes('/node_modules/')
      ? url.slice(url.lastIndexOf('/node_modules/') + 14)
      : url.replace(/^.*\/(reference-pipeline|generators|harness)\//, '$1/');
    const fn = cf.functionName || '(anonymous)';
    const where = short ? `${short}:${cf.lineNumber + 1}` : '';
    const key = `${fn}|${where}`;
    const e = agg.get(key) ?? { selfMs: 0, percent: 0, fn, where };
    e.selfMs += us / 1000;
    agg.set(key, e);
    const b = bucketOf(fn, url);
    buckets[b] = (buckets[b] ?? 0) + us / 1000;
    total += us / 1000;
  }
  const top = [...agg.values()].sort((a, b) => b.selfMs - a.selfMs).slice(0, n);
  for (const e of top) {
    e.percent = Math.round((1000 * e.selfMs) / total) / 10;
    e.selfMs = Math.round(e.selfMs);
  }
  for (const k of Object.keys(buckets)) buckets[k] = Math.round((1000 * buckets[k]!) / total) / 10;
  return { file, component: basename(file), totalMs: Math.round(total), buckets, top };
}

export function formatProfile(s: ProfileSummary): string {
  const lines = [
    `profile ${s.component} (${s.file}): ${s.totalMs} ms sampled`,
    `  by bucket: ${Object.entries(s.buckets)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}%`)
      .join(', ')}`,
    '  self ms    %  function  (file:line)',
  ];
  for (const e of s.top) {
    lines.push(`  ${String(e.selfMs).padStart(7)} ${e.percent.toFixed(1).padStart(5)}  ${e.fn}  ${e.where}`);
  }
  return lines.join('\n');
}
