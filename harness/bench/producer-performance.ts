/**
 * Kafka's own `org.apache.kafka.tools.ProducerPerformance`, run against a stack: the reference ceiling our producer is
 * compared with. One JVM per run (the stack's tools classpath and a Java >= 17 found like the brokers' own), killed
 * if it outlives its timeout; the result is parsed from its final summary line.
 *
 * Defaults match what `streamproof bench producer` compares: acks=all, idempotence on, no compression, maximum
 * throughput (`--throughput -1`), the producer's own batching (linger.ms=5, batch.size=64 KiB unless told).
 */
import { spawn } from 'node:child_process';
import { findJava } from '../stack/java.ts';

export interface ProducerPerformanceOptions {
  /** The stack's tools classpath (`stack.status().toolsClasspath`). */
  classpath: string;
  bootstrap: string;
  topic: string;
  records: number;
  recordSize: number;
  /** Extra or overriding producer properties. */
  props?: Record<string, string | number | boolean>;
  /** Kill the JVM after this long. Default 60 s + 1 ms per 100 records. */
  timeoutMs?: number;
}

export interface ProducerPerformanceResult {
  records: number;
  recordsPerSec: number;
  /** Values only (records x record size), 10^6 bytes per second. */
  mbPerSec: number;
  avgMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  /** The tool's own summary line. */
  summary: string;
  /** `java -version` of the runtime used. */
  java: string;
}

export const PRODUCER_PERFORMANCE_PROPS: Readonly<Record<string, string | number | boolean>> = {
  acks: 'all',
  'enable.idempotence': true,
  'linger.ms': 5,
  'batch.size': 65536,
  'compression.type': 'none',
};

export async function runProducerPerformance(o: ProducerPerformanceOptions): Promise<ProducerPerformanceResult> {
  const java = await findJava(17);
  if (!java) throw new Error('ProducerPerformance needs Java >= 17; none found (streamproof doctor checks)');
  const props = { ...PRODUCER_PERFORMANCE_PROPS, ...o.props, 'bootstrap.servers': o.bootstrap };
  const args = [
    '-Xmx512m',
    '-cp',
    o.classpath,
    'org.apache.kafka.tools.ProducerPerformance',
    '--topic',
    o.topic,
    '--num-records',
    String(o.records),
    '--record-size',
    String(o.recordSize),
    '--throughput',
    '-1',
    '--producer-props',
    ...Object.entries(props).map(([k, v]) => `${k}=${v}`),
  ];
  const child = spawn(java.bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const append = (d: Buffer) => {
    out += d.toString();
    if (out.length > 1 << 20) out = out.slice(-(1 << 19));
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  const timeoutMs = o.timeoutMs ?? 60_000 + o.records / 100;
  let timer: NodeJS.Timeout | undefined;
  const code = await new Promise<number | null>((resolve, reject) => {
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ProducerPerformance did not finish within ${timeoutMs} ms (killed): ${out.slice(-400)}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('exit', (c) => resolve(c));
  }).finally(() => clearTimeout(timer));
  return parseSummary(out, code, java.version);
}

/** Parses the tool's final line: `N records sent, R records/sec (M MB/sec), A ms avg latency, X ms max latency, ...`. */
export function parseSummary(out: string, code: number | null, java: string): ProducerPerformanceResult {
  const summary = out.split('\n').find((l) => / records sent, .*50th/.test(l));
  if (code !== 0 || !summary) throw new Error(`ProducerPerformance exited ${code}: ${out.slice(-600)}`);
  const num = (re: RegExp) => {
    const v = Number(re.exec(summary)?.[1] ?? Number.NaN);
    if (!Number.isFinite(v)) throw new Error(`ProducerPerformance: cannot read ${re} from "${summary.trim()}"`);
    return v;
  };
  return {
    records: num(/^(\d+) records sent/),
    recordsPerSec: num(/([\d.]+) records\/sec/),
    // The tool's MB is 2^20 bytes.
    mbPerSec: Math.round(num(/\(([\d.]+) MB\/sec\)/) * 1.048576 * 100) / 100,
    avgMs: num(/([\d.]+) ms avg latency/),
    p50Ms: num(/(\d+) ms 50th/),
    p95Ms: num(/(\d+) ms 95th/),
    p99Ms: num(/(\d+) ms 99th/),
    p999Ms: num(/(\d+) ms 99\.9th/),
    maxMs: num(/([\d.]+) ms max latency/),
    summary: summary.trim(),
    java,
  };
}
