/**
 * Consumer lag of the SUT, for reports: once a second while the load runs and the output drains, the records of the
 * input topic its consumer group has not committed yet.
 *
 * Model: lag(t) = sum over input partitions of (latest offset - committed offset of the group), read with the
 * harness's own admin client on the direct listener (faults on the SUT's proxied path do not hit it). A partition
 * the group has not committed yet counts from 0 (run topics are fresh). Sampling never fails a run: a sample that
 * errors or is still in flight when the next one is due is skipped and counted.
 *
 * Broker faults: the sampler bootstraps on every broker (read once from the metadata), drops its cached metadata
 * after a failed sample (a leader moved), and replaces its client after two failures in a row, starting the bootstrap
 * list at another broker (a frozen broker 1 would otherwise hold every metadata call). Each call is bounded by a
 * short request timeout, so a sample cannot hang for long.
 *
 * When the group never committed anything (a black-box SUT may ignore STREAMPROOF_GROUP_ID, or commit elsewhere),
 * the runner falls back to `lagFromSeries`: cumulative acked minus cumulative observed records per second, i.e.
 * "records acked but not yet seen in output", labelled as such.
 */
import type { Bootstrap } from '../kafka/clients.ts';
import { DERIVED_LAG_LABEL, GROUP_LAG_LABEL, type LagPoint, type LagResult, lagFromSeries } from './lag-series.ts';
import { groupProgress, ResilientAdmin } from './offsets.ts';

export { DERIVED_LAG_LABEL, GROUP_LAG_LABEL, type LagPoint, type LagResult, lagFromSeries };

export interface LagSamples {
  readonly group: string;
  readonly topic: string;
  /** False when the group never committed an offset: the series then says nothing about the SUT. */
  readonly sawCommit: boolean;
  readonly series: readonly LagPoint[];
  readonly skipped: number;
  readonly errors: readonly string[];
  /** Times the sampler replaced its client after failed samples. */
  readonly reconnects?: number;
}

export interface LagSampler {
  /** Stop sampling (waits for a sample in flight) and return what was sampled. */
  stop(): Promise<LagSamples>;
}

export function startLagSampler(opts: {
  bootstrap: Bootstrap;
  group: string;
  topic: string;
  partitions: number;
  intervalMs?: number;
  /** Request timeout of the sampler's client (default 3000 ms). */
  requestTimeoutMs?: number;
}): LagSampler {
  const admin = new ResilientAdmin(opts.bootstrap, 'streamproof-lag', opts.requestTimeoutMs ?? 3000);
  const series: LagPoint[] = [];
  const errors: string[] = [];
  let skipped = 0;
  let sawCommit = false;
  let inFlight: Promise<void> | undefined;

  const sampleOnce = async (): Promise<void> => {
    const time = Date.now();
    const p = await admin.use((a) => groupProgress(a, opts.group, opts.topic, opts.partitions));
    if (p.committed.size > 0) sawCommit = true;
    series.push({ second: Math.floor(time / 1000), lag: p.lag });
  };

  const tick = () => {
    if (inFlight) {
      skipped++;
      return;
    }
    inFlight = sampleOnce()
      .catch((err: unknown) => {
        skipped++;
        if (errors.length < 5) errors.push(describe(err));
      })
      .finally(() => {
        inFlight = undefined;
      });
  };
  tick();
  const timer = setInterval(tick, opts.intervalMs ?? 1000);

  return {
    async stop() {
      clearInterval(timer);
      await inFlight;
      await admin.close();
      return {
        group: opts.group,
        topic: opts.topic,
        sawCommit,
        series: dedupeSeconds(series),
        skipped,
        errors,
        reconnects: admin.reconnects,
      };
    },
  };
}

/** The message of an error and of its last cause (the client wraps the broker's answer: "Listing offsets failed"). */
function describe(err: unknown): string {
  const e = err as { message?: string; errors?: unknown[]; cause?: unknown };
  const inner = Array.isArray(e?.errors) && e.errors.length > 0 ? e.errors[e.errors.length - 1] : e?.cause;
  const msg = e?.message ?? String(err);
  if (inner === undefined) return msg;
  const more = describe(inner);
  return msg.includes(more) ? msg : `${msg}: ${more}`;
}

/** One point per second (the last sample of a second wins), in time order. */
function dedupeSeconds(points: readonly LagPoint[]): LagPoint[] {
  const bySecond = new Map<number, number>();
  for (const p of points) bySecond.set(p.second, p.lag);
  return [...bySecond.entries()].sort((x, y) => x[0] - y[0]).map(([second, lag]) => ({ second, lag }));
}

/**
 * The lag of a run: sampled group lag when the group committed, else the series fallback; null when there is
 * neither. Notes say which, and how many samples were skipped.
 */
export function lagResult(
  samples: LagSamples | undefined,
  series: readonly { second: number; acked: number; observed: number }[],
  notes: string[],
): LagResult | null {
  if (samples?.skipped) {
    const first = samples.errors[0] ? ` (first error: ${samples.errors[0]})` : '';
    const re = samples.reconnects ? `, client replaced ${samples.reconnects} time(s)` : '';
    notes.push(`lag: ${samples.skipped} sample(s) of consumer group ${samples.group} skipped${re}${first}`);
  }
  if (samples?.sawCommit) {
    return {
      group: samples.group,
      topic: samples.topic,
      source: 'consumer-group',
      label: GROUP_LAG_LABEL,
      series: samples.series,
      skippedSamples: samples.skipped,
    };
  }
  if (series.length === 0) return null;
  if (samples) notes.push(`lag: consumer group ${samples.group} committed no offsets; lag derived from the series`);
  return {
    group: samples?.group ?? '',
    topic: samples?.topic ?? '',
    source: 'acked-minus-observed',
    label: DERIVED_LAG_LABEL,
    series: lagFromSeries(series),
    skippedSamples: samples?.skipped ?? 0,
  };
}
