/**
 * Benchmark of the reference pipeline: exactly-once throughput, topic-to-topic latency and lake-visible latency at
 * fixed offered rates, optionally with a CPU profile of the attributor(s) and the lake sink.
 *
 *   npx tsx reference-pipeline/bench.ts [--rates 500,1000,2000] [--seconds 10] [--attributors 1] [--partitions 4]
 *     [--seed 1] [--profile] [--no-lake] [--json]
 *   npx tsx reference-pipeline/bench.ts --summarise DIR_OR_FILE.cpuprofile [--top 15]
 *
 * Model (open load): for each rate a fresh pipeline (own topics, group and lake) gets seeded bulk-generator events
 * produced straight onto its input topic (Avro, the registry's id) at their *intended* send times, whether or not the
 * pipeline keeps up.
 *   - topic-to-topic latency of a conversion = when its first attribution record is read (read_committed) minus the
 *     conversion's intended send time, so queueing behind a slow attributor counts;
 *   - lake-visible latency of a conversion = when the first lake commit whose position (next offset of the output
 *     topic's partition) is past the conversion's last attribution record appears in `_commits/` (polled every 20 ms)
 *     minus the intended send time: from then on analytics sees all of the conversion's records;
 *   - throughput = input events / time from the first intended send to the last conversion's output;
 *   - duplicates: record ids read twice on the output topic, and the lake's own check (rows vs distinct ids).
 * `--profile` runs the attributors and the lake sink under `node --cpu-prof` (written on their graceful stop) and
 * prints the top self-time functions of each profile. It runs on the stack --bootstrap (direct) / --proxied /
 * --registry name; `npx tsx harness/bench/reference-bench.ts [same flags]` starts one first. `os.loadavg()` is
 * printed with every point: the numbers depend on what else runs.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Consumer, Producer } from '@platformatic/kafka';
import { createBulkGenerator } from '../generators/bulk.ts';
import { LATEST_SCHEMA_VERSION } from '../generators/event.ts';
import { EVENT_SCHEMAS } from '../generators/schemas.ts';
import { lakeReport } from './analytics/analytics.ts';
import {
  CPU_PROF_PRELOAD,
  formatProfile,
  type Percentiles,
  type ProfileSummary,
  percentiles,
  summariseProfile,
} from './bench-profile.ts';
import { SchemaRegistryClient } from './common/registry.ts';
import { startReference } from './index.ts';
import type { LakeCommit } from './lake/commit-log.ts';

export type { Percentiles, ProfileEntry, ProfileSummary } from './bench-profile.ts';
export { formatProfile, summariseProfile } from './bench-profile.ts';

export interface BenchPoint {
  offeredPerSec: number;
  seconds: number;
  attributors: number;
  partitions: number;
  events: number;
  conversions: number;
  observedConversions: number;
  processedPerSec: number;
  /** Input records the attributors committed (their `attributor_records_in_total`). */
  attributorRecordsIn: number;
  latencyMs: Percentiles;
  lake: {
    visibleConversions: number;
    latencyMs: Percentiles;
    commits: number;
    attributionRows: number;
    eventRows: number;
    duplicatedRows: number;
  } | null;
  duplicatedRecords: number;
  /** processed >= 95 % of offered, every conversion seen on the topic (and in the lake), no duplicate. */
  keptUp: boolean;
  loadavgBefore: number[];
  loadavgAfter: number[];
  profiles: ProfileSummary[];
}

const load = () => loadavg().map((l) => Math.round(l * 100) / 100);

export async function benchRate(opts: {
  bootstrap: string;
  proxiedBootstrap: string;
  registryUrl: string;
  rate: number;
  durationSec: number;
  attributors: number;
  partitions: number;
  seed: number;
  lake: boolean;
  profileDir?: string;
}): Promise<BenchPoint> {
  const id = randomUUID().slice(0, 8);
  const loadavgBefore = load();
  const logDir = mkdtempSync(join(tmpdir(), 'streamproof-bench-'));
  const lakeDir = opts.lake ? join(logDir, 'lake') : undefined;
  const profileDir = opts.profileDir ? join(opts.profileDir, `rate-${opts.rate}-${id}`) : undefined;
  // Node 20 refuses --cpu-prof in NODE_OPTIONS and components are launched as `node --import tsx main.ts`, so the
  // profile is taken by a preload (allowed in NODE_OPTIONS) that does what --cpu-prof does through node:inspector.
  const profEnv = (kind: string): Record<string, string> => {
    if (!profileDir) return {};
    const dir = join(profileDir, kind);
    mkdirSync(dir, { recursive: true });
    const preload = join(profileDir, 'cpu-prof-preload.mjs');
    writeFileSync(preload, CPU_PROF_PRELOAD);
    return {
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${preload}`.trim(),
      STREAMPROOF_BENCH_CPU_PROF_DIR: dir,
    };
  };
  const ref = await startReference({
    bootstrap: opts.proxiedBootstrap,
    registryUrl: opts.registryUrl,
    lake: opts.lake,
    ...(lakeDir ? { lakeDir } : {}),
    logDir,
    attributors: opts.attributors,
    partitions: opts.partitions,
    inputTopic: `bench-events-${id}`,
    outputTopic: `bench-attributions-${id}`,
    changelogTopic: `bench-state-${id}`,
    groupId: `bench-${id}`,
    componentEnv: { attributor: profEnv('attributor'), lake: profEnv('lake') },
  });
  const producer = new Producer({
    clientId: 'bench-load',
    bootstrapBrokers: [opts.bootstrap],
    idempotent: true,
    acks: -1,
  });
  const consumer = new Consumer({
    clientId: 'bench-observer',
    groupId: `bench-observer-${id}`,
    bootstrapBrokers: [opts.bootstrap],
    maxWaitTime: 20,
  });
  let stopped = false;
  let lakeTimer: NodeJS.Timeout | undefined;
  try {
    const schemaId = await new SchemaRegistryClient(opts.registryUrl).register(
      `${ref.topics.input}-value`,
      EVENT_SCHEMAS[LATEST_SCHEMA_VERSION],
    );
    const intended = new Map<string, number>();
    /** Every conversion sent: intended send time, and (once read) the partition and last offset of its records. */
    const conv = new Map<string, { at: number; partition: number; lastOffset: bigint }>();
    const latencies: number[] = [];
    const seenRecords = new Set<string>();
    let duplicated = 0;
    let lastOutputAt = 0;
    const stream = await consumer.consume({
      topics: [ref.topics.output],
      mode: 'earliest',
      autocommit: false,
      isolationLevel: 1,
    });
    stream.on('data', (m: { value: Buffer; partition: number; offset: bigint }) => {
      const now = Date.now();
      const r = JSON.parse(m.value.toString()) as { record_id: string; conversion_id: string };
      if (seenRecords.has(r.record_id)) duplicated += 1;
      else seenRecords.add(r.record_id);
      const c = conv.get(r.conversion_id);
      if (c !== undefined && m.offset > c.lastOffset) {
        c.partition = m.partition;
        c.lastOffset = m.offset;
      }
      const t = intended.get(r.conversion_id);
      if (t !== undefined) {
        latencies.push(now - t);
        intended.delete(r.conversion_id);
        lastOutputAt = now;
      }
    });

    // Lake commits as they become visible (the rename into `_commits/`): when, and the output topic's position.
    const commits: { at: number; next: Map<number, bigint> }[] = [];
    const seenCommitNames = new Set<string>();
    const commitsDir = lakeDir ? join(lakeDir, '_commits') : undefined;
    const pollLake = () => {
      if (!commitsDir) return;
      let names: string[];
      try {
        names = readdirSync(commitsDir).filter((n) => /^\d{8}\.json$/.test(n));
      } catch {
        return;
      }
      const now = Date.now();
      for (const n of names.sort()) {
        if (seenCommitNames.has(n)) continue;
        seenCommitNames.add(n);
        const c = JSON.parse(readFileSync(join(commitsDir, n), 'utf8')) as LakeCommit;
        const next = new Map<number, bigint>();
        for (const [p, o] of Object.entries(c.offsets[ref.topics.output] ?? {})) next.set(Number(p), BigInt(o));
        commits.push({ at: now, next });
      }
    };
    if (commitsDir) lakeTimer = setInterval(pollLake, 20);
    /** When the lake first showed every record of conversion c, or undefined. */
    const lakeVisibleAt = (c: { partition: number; lastOffset: bigint }): number | undefined => {
      if (c.lastOffset < 0n) return undefined;
      for (const k of commits) if ((k.next.get(c.partition) ?? -1n) > c.lastOffset) return k.at;
      return undefined;
    };

    // Warm-up: the attributors own every partition (group joined, takeover done) before the clock starts.
    const warm = Date.now() + 60_000;
    for (;;) {
      const owned = (await Promise.all(ref.attributors.map((a) => a.metrics()))).reduce(
        (s, m) => s + (m.get('attributor_partitions_owned') ?? 0),
        0,
      );
      if (owned >= opts.partitions) break;
      if (Date.now() > warm) throw new Error('bench: attributors did not take over every partition within 60 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    const t0 = Date.now() + 200;
    const gen = createBulkGenerator({
      seed: opts.seed,
      format: 'avro',
      schemaId,
      users: 20_000,
      startTime: t0,
      ratePerSec: opts.rate,
    });
    const total = Math.round(opts.rate * opts.durationSec);
    let sent = 0;
    let conversions = 0;
    let chain: Promise<void> = Promise.resolve();
    while (sent < total) {
      const due = Math.min(total, Math.floor(((Date.now() - t0) * opts.rate) / 1000)) - sent;
      if (due <= 0) {
        await new Promise((r) => setTimeout(r, 5));
        continue;
      }
      const batch = gen.nextBatch(due);
      const messages: { topic: string; key: Buffer; value: Buffer }[] = [];
      for (let i = 0; i < batch.count; i++) {
        const e = batch.event(i);
        if (e.type === 'conversion') {
          const at = t0 + ((sent + i) * 1000) / opts.rate;
          intended.set(e.event_id, at);
          conv.set(e.event_id, { at, partition: -1, lastOffset: -1n });
          conversions += 1;
        }
        messages.push({ topic: ref.topics.input, key: Buffer.from(batch.key(i)), value: Buffer.from(batch.value(i)) });
      }
      sent += batch.count;
      // Sends are chained (an idempotent producer must not reorder them) but not awaited by the schedule: the open
      // model keeps offering while acks are pending, and a backlog shows up as latency.
      chain = chain.then(() =>
        producer.send({ messages }).then(
          () => {},
          (err: Error) => {
            process.stderr.write(`bench produce failed: ${err.message}\n`);
          },
        ),
      );
    }
    await chain;
    const lakeDone = () => !commitsDir || [...conv.values()].every((c) => lakeVisibleAt(c) !== undefined);
    const deadline = Date.now() + 90_000;
    while (intended.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    while (!lakeDone() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    await new Promise((r) => setTimeout(r, 1_000));
    pollLake();
    await stream.close();
    const recordsIn = (await Promise.all(ref.attributors.map((a) => a.metrics().catch(() => new Map())))).reduce(
      (s, m) => s + ((m as Map<string, number>).get('attributor_records_in_total') ?? 0),
      0,
    );
    const loadavgAfter = load();

    let lake: BenchPoint['lake'] = null;
    if (lakeDir) {
      const lakeLat: number[] = [];
      for (const c of conv.values()) {
        const at = lakeVisibleAt(c);
        if (at !== undefined) lakeLat.push(at - c.at);
      }
      // Stop first: the sink's final flush commits what it still buffers; then the lake's own exactly-once check.
      await ref.stop();
      stopped = true;
      const rep = await lakeReport(lakeDir, { topPaths: 1 });
      const a = rep.exactlyOnce.attributions;
      const e = rep.exactlyOnce.events;
      lake = {
        visibleConversions: lakeLat.length,
        latencyMs: percentiles(lakeLat),
        commits: rep.commits,
        attributionRows: a.rows,
        eventRows: e.rows,
        duplicatedRows: a.rows - a.distinct + (e.rows - e.distinct),
      };
    }
    if (!stopped) {
      await ref.stop();
      stopped = true;
    }
    const profiles: ProfileSummary[] = [];
    if (profileDir) {
      for (const kind of ['attributor', 'lake']) {
        const dir = join(profileDir, kind);
        for (const f of readdirSync(dir).filter((n) => n.endsWith('.cpuprofile'))) {
          const s = summariseProfile(join(dir, f));
          s.component = `${kind}/${f}`;
          profiles.push(s);
        }
      }
    }
    const processedPerSec = Math.round((total * 1000) / Math.max(1, (lastOutputAt || Date.now()) - t0));
    return {
      offeredPerSec: opts.rate,
      seconds: opts.durationSec,
      attributors: opts.attributors,
      partitions: opts.partitions,
      events: total,
      conversions,
      observedConversions: latencies.length,
      processedPerSec,
      attributorRecordsIn: recordsIn,
      latencyMs: percentiles(latencies),
      lake,
      duplicatedRecords: duplicated,
      keptUp:
        processedPerSec >= 0.95 * opts.rate &&
        latencies.length === conversions &&
        duplicated === 0 &&
        (lake === null || (lake.visibleConversions === conversions && lake.duplicatedRows === 0)),
      loadavgBefore,
      loadavgAfter,
      profiles,
    };
  } finally {
    if (lakeTimer) clearInterval(lakeTimer);
    try {
      await consumer.close(true);
    } catch {
      // already broken: nothing to release
    }
    await producer.close().catch(() => {});
    if (!stopped) await ref.stop();
    if (process.env.STREAMPROOF_KEEP_BENCH_DIRS !== '1') rmSync(logDir, { recursive: true, force: true });
  }
}

export function formatTable(points: BenchPoint[]): string {
  const head =
    '| offered/s | attributors | processed/s | t2t p50 / p95 / p99 ms | lake-visible p50 / p95 / p99 ms | dup (topic / lake) | kept up | load before → after |';
  const sep = '| --- | --- | --- | --- | --- | --- | --- | --- |';
  const rows = points.map((p) => {
    const l = p.latencyMs;
    const k = p.lake?.latencyMs;
    return (
      `| ${p.offeredPerSec} | ${p.attributors} | ${p.processedPerSec} | ${l.p50} / ${l.p95} / ${l.p99} | ` +
      `${k ? `${k.p50} / ${k.p95} / ${k.p99}` : 'n/a'} | ${p.duplicatedRecords} / ${p.lake?.duplicatedRows ?? 'n/a'} | ` +
      `${p.keptUp ? 'yes' : `no (${Math.round((100 * p.processedPerSec) / p.offeredPerSec)} %${p.observedConversions < p.conversions ? `, ${p.observedConversions}/${p.conversions} conversions` : ''})`} | ` +
      `${p.loadavgBefore.join(' ')} → ${p.loadavgAfter.join(' ')} |`
    );
  });
  return [head, sep, ...rows].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      rates: { type: 'string', default: '500,1000,2000' },
      seconds: { type: 'string' },
      duration: { type: 'string' },
      attributors: { type: 'string', default: '1' },
      partitions: { type: 'string', default: '4' },
      seed: { type: 'string', default: '1' },
      profile: { type: 'boolean', default: false },
      'profile-dir': { type: 'string' },
      'no-lake': { type: 'boolean', default: false },
      summarise: { type: 'string' },
      top: { type: 'string', default: '15' },
      bootstrap: { type: 'string' },
      proxied: { type: 'string' },
      registry: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (values.summarise) {
    const target = values.summarise;
    const files = statSync(target).isDirectory()
      ? readdirSync(target, { recursive: true, encoding: 'utf8' })
          .filter((n) => n.endsWith('.cpuprofile'))
          .map((n) => join(target, n))
      : [target];
    const sums = files.map((f) => summariseProfile(f, Number(values.top)));
    process.stdout.write(
      values.json ? `${JSON.stringify(sums, null, 2)}\n` : `${sums.map(formatProfile).join('\n\n')}\n`,
    );
    process.exit(0);
  }
  const profileDir = values.profile
    ? (values['profile-dir'] ?? mkdtempSync(join(tmpdir(), 'streamproof-bench-prof-')))
    : undefined;
  {
    const bootstrap = values.bootstrap;
    const registryUrl = values.registry;
    if (!bootstrap || !registryUrl) {
      process.stderr.write(
        'bench: --bootstrap and --registry are required (a running stack: `streamproof stack up`), or run it through `npx tsx harness/bench/reference-bench.ts`, which starts one\n',
      );
      process.exit(64);
    }
    const proxiedBootstrap = values.proxied ?? bootstrap;
    const points: BenchPoint[] = [];
    const attributorCounts = values.attributors!.split(',').map(Number);
    for (const attributors of attributorCounts) {
      for (const rate of values.rates!.split(',').map(Number)) {
        const p = await benchRate({
          bootstrap,
          proxiedBootstrap,
          registryUrl,
          rate,
          durationSec: Number(values.seconds ?? values.duration ?? '10'),
          attributors,
          partitions: Number(values.partitions),
          seed: Number(values.seed),
          lake: !values['no-lake'],
          ...(profileDir ? { profileDir } : {}),
        });
        points.push(p);
        if (!values.json) {
          const k = p.lake;
          process.stdout.write(
            `offered ${p.offeredPerSec}/s x${p.attributors}: processed ${p.processedPerSec}/s (attributor in ${p.attributorRecordsIn}/${p.events}), ` +
              `conversions ${p.observedConversions}/${p.conversions}, t2t p50 ${p.latencyMs.p50} p95 ${p.latencyMs.p95} p99 ${p.latencyMs.p99} max ${p.latencyMs.max} ms, ` +
              (k
                ? `lake-visible ${k.visibleConversions}/${p.conversions} p50 ${k.latencyMs.p50} p95 ${k.latencyMs.p95} p99 ${k.latencyMs.p99} ms (${k.commits} commits, ${k.attributionRows} attribution rows), `
                : '') +
              `duplicated ${p.duplicatedRecords}/${k?.duplicatedRows ?? '-'}, load ${p.loadavgBefore.join(' ')} -> ${p.loadavgAfter.join(' ')}\n`,
          );
          for (const s of p.profiles) process.stdout.write(`${formatProfile(s)}\n`);
        }
      }
    }
    if (values.json) process.stdout.write(`${JSON.stringify({ points, profileDir }, null, 2)}\n`);
    else process.stdout.write(`\n${formatTable(points)}\n${profileDir ? `profiles kept in ${profileDir}\n` : ''}`);
  }
}
