/**
 * Benchmark of the reference pipeline: exactly-once throughput and topic-to-topic latency at fixed offered rates.
 *
 *   node --import tsx reference-pipeline/bench.ts [--rates 500,1000,2000] [--duration 15] [--attributors 1]
 *     [--partitions 4] [--seed 1] [--json]
 *
 * Model (open load): for each rate a fresh pipeline (own topics, no lake) gets seeded bulk-generator events produced
 * straight onto its input topic (Avro, the registry's id) at their *intended* send times, whether or not the pipeline
 * keeps up. Latency of a conversion = when its first attribution record is read (read_committed) minus the conversion's
 * intended send time, so queueing behind a slow attributor counts. Throughput = input events / time from the first
 * intended send to the last conversion's output. Duplicated record ids are counted (exactly-once under load).
 * The stack is started here unless --bootstrap (direct) / --proxied / --registry are given.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Consumer, Producer } from '@platformatic/kafka';
import { createBulkGenerator } from '../generators/bulk.ts';
import { LATEST_SCHEMA_VERSION } from '../generators/event.ts';
import { EVENT_SCHEMAS } from '../generators/schemas.ts';
import { type StartedStack, startStack } from '../harness/stack/stack.ts';
import { SchemaRegistryClient } from './common/registry.ts';
import { startReference } from './index.ts';

export interface BenchPoint {
  offeredPerSec: number;
  events: number;
  conversions: number;
  observedConversions: number;
  processedPerSec: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  duplicatedRecords: number;
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

export async function benchRate(opts: {
  bootstrap: string;
  proxiedBootstrap: string;
  registryUrl: string;
  rate: number;
  durationSec: number;
  attributors: number;
  partitions: number;
  seed: number;
}): Promise<BenchPoint> {
  const id = randomUUID().slice(0, 8);
  const logDir = mkdtempSync(join(tmpdir(), 'streamproof-bench-'));
  const ref = await startReference({
    bootstrap: opts.proxiedBootstrap,
    registryUrl: opts.registryUrl,
    lake: false,
    logDir,
    attributors: opts.attributors,
    partitions: opts.partitions,
    inputTopic: `bench-events-${id}`,
    outputTopic: `bench-attributions-${id}`,
    changelogTopic: `bench-state-${id}`,
    groupId: `bench-${id}`,
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
  try {
    const schemaId = await new SchemaRegistryClient(opts.registryUrl).register(
      `${ref.topics.input}-value`,
      EVENT_SCHEMAS[LATEST_SCHEMA_VERSION],
    );
    const intended = new Map<string, number>();
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
    stream.on('data', (m: { value: Buffer }) => {
      const now = Date.now();
      const r = JSON.parse(m.value.toString()) as { record_id: string; conversion_id: string };
      if (seenRecords.has(r.record_id)) duplicated += 1;
      else seenRecords.add(r.record_id);
      const t = intended.get(r.conversion_id);
      if (t !== undefined) {
        latencies.push(now - t);
        intended.delete(r.conversion_id);
        lastOutputAt = now;
      }
    });

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
          intended.set(e.event_id, t0 + ((sent + i) * 1000) / opts.rate);
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
    const deadline = Date.now() + 60_000;
    while (intended.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 1_000));
    await stream.close();
    latencies.sort((a, b) => a - b);
    return {
      offeredPerSec: opts.rate,
      events: total,
      conversions,
      observedConversions: latencies.length,
      processedPerSec: Math.round((total * 1000) / Math.max(1, (lastOutputAt || Date.now()) - t0)),
      latencyMs: {
        p50: Math.round(percentile(latencies, 0.5)),
        p95: Math.round(percentile(latencies, 0.95)),
        p99: Math.round(percentile(latencies, 0.99)),
        max: Math.round(latencies[latencies.length - 1] ?? Number.NaN),
      },
      duplicatedRecords: duplicated,
    };
  } finally {
    try {
      await consumer.close(true);
    } catch {
      // already broken: nothing to release
    }
    await producer.close().catch(() => {});
    await ref.stop();
    rmSync(logDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      rates: { type: 'string', default: '500,1000,2000' },
      duration: { type: 'string', default: '15' },
      attributors: { type: 'string', default: '1' },
      partitions: { type: 'string', default: '4' },
      seed: { type: 'string', default: '1' },
      bootstrap: { type: 'string' },
      proxied: { type: 'string' },
      registry: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  let stack: StartedStack | undefined;
  try {
    if (!values.bootstrap) stack = await startStack({ brokers: 1 });
    const bootstrap = values.bootstrap ?? stack!.bootstrap;
    const proxiedBootstrap = values.proxied ?? stack?.proxiedBootstrap ?? bootstrap;
    const registryUrl = values.registry ?? stack?.registryUrl;
    if (!registryUrl) throw new Error('--registry is required with --bootstrap');
    const points: BenchPoint[] = [];
    for (const rate of values.rates!.split(',').map(Number)) {
      const p = await benchRate({
        bootstrap,
        proxiedBootstrap,
        registryUrl,
        rate,
        durationSec: Number(values.duration),
        attributors: Number(values.attributors),
        partitions: Number(values.partitions),
        seed: Number(values.seed),
      });
      points.push(p);
      if (!values.json) {
        process.stdout.write(
          `offered ${p.offeredPerSec}/s: processed ${p.processedPerSec}/s, conversions ${p.observedConversions}/${p.conversions}, ` +
            `latency p50 ${p.latencyMs.p50} ms p95 ${p.latencyMs.p95} ms p99 ${p.latencyMs.p99} ms max ${p.latencyMs.max} ms, ` +
            `duplicated ${p.duplicatedRecords}\n`,
        );
      }
    }
    if (values.json) process.stdout.write(`${JSON.stringify({ points }, null, 2)}\n`);
  } finally {
    await stack?.stop();
  }
}
