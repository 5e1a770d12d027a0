/**
 * The reference pipeline on a real stack: collector -> events -> attributor (exactly-once) -> attributions, and the
 * lake sink, each its own process reached through Toxiproxy. The oracle is the attribution model: the output topic,
 * read read_committed, must be exactly `attribute(acceptedEvents)` (same record ids, same fields, time-decay credits
 * within 1e-9), each record once; the lake must hold each record and each event once.
 *
 * One stack for the file; each test has its own topics, consumer group, transactional ids and lake directory.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { Producer } from '@platformatic/kafka';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BAD_EVENT_KINDS, type BadEvent, type BadEventKind, badEvent } from '../generators/arbitrary/badEvent.ts';
import { EVENT_SCHEMAS, encodeJson } from '../generators/schemas.ts';
import { closeNow } from '../harness/kafka/clients.ts';
import { RegistryClient } from '../harness/registry/client.ts';
import { startStack } from '../harness/stack/stack.ts';
import type { ComponentHandle } from '../reference-pipeline/index.ts';
import { attribute } from '../reference-pipeline/model/index.ts';
import {
  ctx,
  expectLakeExactlyOnce,
  expectModelOutput,
  openTransactionPartitions,
  post,
  postEvents,
  readOutput,
  readTopic,
  reference,
  sumMetric,
  tokens,
  traffic,
  uncommittedParquet,
  waitLake,
  waitMetric,
} from './reference-helpers.ts';

beforeAll(async () => {
  ctx.stack = await startStack({ brokers: 1 });
});

afterAll(async () => {
  await ctx.stack?.stop();
  // STREAMPROOF_KEEP_TEST_DIRS=1 keeps the component logs and lakes for a post-mortem.
  if (process.env.STREAMPROOF_KEEP_TEST_DIRS) process.stderr.write(`kept: ${ctx.dirs.join(' ')}\n`);
  else for (const d of ctx.dirs) rmSync(d, { recursive: true, force: true });
});

describe('reference pipeline', () => {
  it('happy path, two attributors: output topic = the model, lake holds each record once', async () => {
    const events = traffic(11, 3000);
    const expected = attribute(events).records;
    expect(expected.length).toBeGreaterThan(1000);
    await using ref = await reference({ attributors: 2 });
    await postEvents(ref, events);
    const observed = await readOutput(ref, expected.length);
    expectModelOutput(observed, expected);

    const report = await waitLake(ref.lakeDir, expected.length, events.length);
    expectLakeExactlyOnce(report, expected.length, events.length);
    // Revenue per model adds up to the conversions' revenue in the lake (the pseudo-touch keeps the sums whole).
    const byModel = new Map<string, number>();
    for (const r of report.revenue) byModel.set(r.model, (byModel.get(r.model) ?? 0) + r.revenue_minor);
    const want = expected.filter((r) => r.model === 'linear').reduce((s, r) => s + (r.revenue_credit_minor ?? 0), 0);
    for (const v of byModel.values()) expect(v).toBe(want);
    expect(report.topPaths.length).toBeGreaterThan(0);

    const m = await ref.collector.metrics();
    expect(m.get('collector_events_accepted_total')).toBe(events.length);
    const a = await Promise.all(ref.attributors.map((x) => x.metrics()));
    expect(a.reduce((s, x) => s + (x.get('attributor_records_in_total') ?? 0), 0)).toBe(events.length);
  });

  it('kill -9 of the attributor inside a transaction, then restart: output still exactly the model', async () => {
    const events = traffic(22, 3000, 150, 1);
    const expected = attribute(events).records;
    await using ref = await reference({
      attributors: 1,
      componentEnv: { attributor: { STREAMPROOF_ATTRIBUTOR_COMMIT_DELAY_MS: '400' } },
    });
    const [attributor] = ref.attributors;
    const watched = [ref.topics.output, ref.topics.changelog];
    // Some batches committed first, so the restart has state to restore; then a kill while a later transaction is
    // open on the broker (its records written, its commit not): the last stable offset is behind the high watermark.
    await postEvents(ref, events.slice(0, 1000));
    await waitMetric(
      () => attributor!.metrics(),
      'attributor_records_in_total',
      (v) => v >= 1000,
    );
    let sent = 1000;
    let landed = false;
    // The commit can win the race against the kill; then the next slice of events gives another transaction.
    while (!landed && sent < 1500) {
      await postEvents(ref, events.slice(sent, sent + 100));
      sent += 100;
      const deadline = Date.now() + 10_000;
      while ((await openTransactionPartitions(watched, 4)).length === 0 && Date.now() < deadline) {}
      await attributor!.kill();
      landed = (await openTransactionPartitions(watched, 4)).length > 0;
      if (!landed) await attributor!.start();
    }
    expect(landed, 'a kill -9 that leaves a transaction open').toBe(true);
    expect(attributor!.running()).toBe(false);
    await postEvents(ref, events.slice(sent, 1500));
    await postEvents(ref, events.slice(1500));
    await attributor!.start();
    const observed = await readOutput(ref, expected.length);
    expectModelOutput(observed, expected);
    // The restart aborted it (fenced by the same transactional id): once idle, nothing is left open.
    const deadline = Date.now() + 30_000;
    let open = await openTransactionPartitions(watched, 4);
    while (open.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      open = await openTransactionPartitions(watched, 4);
    }
    expect(open).toEqual([]);
    const m = await attributor!.metrics();
    expect(m.get('attributor_restores_total')).toBeGreaterThan(0);
    expect(m.get('attributor_restored_users_total')).toBeGreaterThan(0);
    const report = await waitLake(ref.lakeDir, expected.length, events.length);
    expectLakeExactlyOnce(report, expected.length, events.length);
  });

  it('kill -9 of the lake sink between its files and its commit, then restart: lake exactly once', async () => {
    const events = traffic(33, 3000, 150, 2);
    const expected = attribute(events).records;
    await using ref = await reference({
      componentEnv: { lake: { STREAMPROOF_LAKE_COMMIT_DELAY_MS: '1500', STREAMPROOF_LAKE_FLUSH_MS: '300' } },
    });
    const lake = ref.lake!;
    await postEvents(ref, events.slice(0, 2000));
    // Wait until the files of a commit are written and fsynced but the commit is not: the window the kill must hit.
    await waitMetric(
      () => lake.metrics(),
      'lake_files_pending_commit',
      (v) => v > 0,
    );
    await lake.kill();
    // The kill landed between the data files and the commit: files exist that no commit names.
    expect(uncommittedParquet(ref.lakeDir).length).toBeGreaterThan(0);
    await postEvents(ref, events.slice(2000));
    await lake.start();
    const report = await waitLake(ref.lakeDir, expected.length, events.length);
    expectLakeExactlyOnce(report, expected.length, events.length);
    expect(
      uncommittedParquet(ref.lakeDir).filter((f) => !f.includes(`part-${String(report.commits + 1).padStart(8, '0')}`)),
    ).toEqual([]);
  });

  it('bad input: refused by the collector or dead-lettered by the attributor, counted; good events around it delivered', async () => {
    const registry = new RegistryClient(ctx.stack.registryUrl!);
    await using ref = await reference({
      attributors: 1,
      collectorToken: 'let-me-in',
      componentEnv: { collector: { STREAMPROOF_COLLECTOR_MAX_IN_FLIGHT: '100' } },
    });
    tokens.set(ref, 'let-me-in');
    // Real ids of the three versions, so the Avro kinds are bad for the reason they claim (not just an unknown id).
    const subject = `bad-${randomUUID()}`;
    await registry.setCompatibility(subject, 'NONE').catch(() => {});
    const schemaIds = {
      1: await registry.register(subject, EVENT_SCHEMAS[1]),
      2: await registry.register(subject, EVENT_SCHEMAS[2]),
      3: await registry.register(subject, EVENT_SCHEMAS[3]),
    };
    const jsonKinds: BadEventKind[] = BAD_EVENT_KINDS.filter(
      (k) =>
        ![
          'unknown-schema-id',
          'wrong-magic-byte',
          'short-buffer',
          'truncated-avro',
          'trailing-bytes',
          'oversized-message',
        ].includes(k),
    );
    const avroKinds: BadEventKind[] = [
      'unknown-schema-id',
      'wrong-magic-byte',
      'short-buffer',
      'truncated-avro',
      'trailing-bytes',
    ];
    const badJson = fc.sample(badEvent({ kinds: jsonKinds, schemaIds }), { seed: 7, numRuns: 60 });
    const badAvro = fc.sample(badEvent({ kinds: avroKinds, schemaIds }), { seed: 8, numRuns: 25 });
    const seenKinds = new Set(badJson.map((b) => b.kind));
    expect(seenKinds.size).toBeGreaterThanOrEqual(jsonKinds.length - 1);

    const events = traffic(44, 1200, 100, 3);
    const before = events.slice(0, 600);
    const after = events.slice(600);

    // 1. One NDJSON request: good events, the bad ones, more good events.
    const lines = [
      ...before.slice(0, 300).map((e) => encodeJson(e).toString()),
      ...badJson.map((b: BadEvent) => b.bytes.toString('utf8')),
      ...before.slice(300).map((e) => encodeJson(e).toString()),
    ];
    const { status, body } = await post(ref, lines);
    expect(status).toBe(202);
    expect(body.accepted).toBe(before.length);
    expect(body.rejected).toBe(badJson.length);
    const rejectedIdx = body.results.filter((r) => r.status === 'rejected').map((r) => r.index);
    expect(rejectedIdx).toEqual(badJson.map((_, i) => 300 + i));
    for (const r of body.results.filter((x) => x.status === 'rejected')) expect(r.reason).toBeTruthy();

    // 2. A message over the broker's limit is refused whole by the body limit.
    const huge = fc.sample(badEvent({ kinds: ['oversized-message'] }), { seed: 9, numRuns: 1 })[0]!;
    const res413 = await fetch(`${ref.collectorUrl}/v1/events`, {
      method: 'POST',
      headers: { authorization: 'Bearer let-me-in' },
      body: huge.bytes,
    });
    await res413.arrayBuffer();
    expect(res413.status).toBe(413);

    // 3. Undecodable Avro straight onto the input topic (a producer that bypasses the collector).
    const producer = new Producer({
      clientId: 'ref-test-bad-avro',
      bootstrapBrokers: [ctx.stack.bootstrap],
      idempotent: true,
      acks: -1,
    });
    try {
      await producer.send({
        messages: badAvro.map((b, i) => ({
          topic: ref.topics.input,
          key: Buffer.from(`u${String(i % 100).padStart(7, '0')}`),
          value: b.bytes,
        })),
      });
    } finally {
      await closeNow(producer);
    }
    await postEvents(ref, after);

    const expected = attribute(events).records;
    const observed = await readOutput(ref, expected.length);
    expectModelOutput(observed, expected);

    const cm = await ref.collector.metrics();
    expect(sumMetric(cm, 'collector_events_rejected_total')).toBe(badJson.length);
    expect(cm.get('collector_dlq_total')).toBe(badJson.length);
    const am = await ref.attributors[0]!.metrics();
    expect(sumMetric(am, 'attributor_dlq_total')).toBeGreaterThanOrEqual(badAvro.length);
    const dlq = await readTopic(ref.topics.dlq, badJson.length + badAvro.length);
    const bySource = (s: string) => dlq.filter((m) => m.headers.get('streamproof-dlq-source') === s).length;
    expect(bySource('collector')).toBe(badJson.length);
    expect(bySource('attributor')).toBe(sumMetric(am, 'attributor_dlq_total'));
    for (const m of dlq) expect(m.headers.get('streamproof-dlq-reason')).toBeTruthy();

    const report = await waitLake(ref.lakeDir, expected.length, events.length);
    expectLakeExactlyOnce(report, expected.length, events.length);

    // 4. No token: 401, nothing produced.
    const res401 = await fetch(`${ref.collectorUrl}/v1/events`, { method: 'POST', body: lines[0] });
    await res401.arrayBuffer();
    expect(res401.status).toBe(401);
    // 5. Backpressure: concurrent requests over the in-flight limit get 429 + Retry-After (users of their own, so the
    // checks above are not disturbed).
    const extra = traffic(45, 600, 100, 9).map((e) => ({ ...e, user_id: `u00009${e.user_id.slice(-2)}` }));
    const statuses = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const r = await fetch(`${ref.collectorUrl}/v1/events`, {
          method: 'POST',
          headers: { authorization: 'Bearer let-me-in' },
          body: extra
            .slice(i * 60, i * 60 + 60)
            .map((e) => encodeJson(e).toString())
            .join('\n'),
        });
        await r.arrayBuffer();
        return { status: r.status, retryAfter: r.headers.get('retry-after') };
      }),
    );
    expect(statuses.filter((x) => x.status === 429).length).toBeGreaterThan(0);
    for (const x of statuses) {
      expect([202, 429]).toContain(x.status);
      if (x.status === 429) expect(x.retryAfter).toBe('1');
    }
    const after429 = await ref.collector.metrics();
    expect(after429.get('collector_requests_total{code="429"}')).toBe(statuses.filter((x) => x.status === 429).length);
    expect(after429.get('collector_requests_total{code="401"}')).toBe(1);
  });

  it('a paused attributor loses its partitions and, resumed, is fenced: output still exactly the model', async () => {
    const events = traffic(55, 3000, 150, 4);
    const expected = attribute(events).records;
    await using ref = await reference({
      attributors: 2,
      componentEnv: { attributor: { STREAMPROOF_ATTRIBUTOR_COMMIT_DELAY_MS: '200' } },
    });
    const [a0, a1] = ref.attributors as [ComponentHandle, ComponentHandle];
    const recordsIn = async () =>
      new Map([
        [
          'in',
          (await Promise.all([a0.metrics(), a1.metrics()])).reduce(
            (s, m) => s + (m.get('attributor_records_in_total') ?? 0),
            0,
          ),
        ],
      ]);
    await postEvents(ref, events.slice(0, 1000));
    await waitMetric(recordsIn, 'in', (v) => v >= 1000);
    await postEvents(ref, events.slice(1000, 1300));
    // SIGSTOP, likely inside a transaction: no heartbeats, so the group gives its partitions to a1, whose takeover
    // fences a0's producers and aborts what a0 left open.
    a0.pause();
    await postEvents(ref, events.slice(1300, 2000));
    await waitMetric(
      () => a1.metrics(),
      'attributor_partitions_owned',
      (v) => v === 4,
      90_000,
      250,
    );
    // The zombie wakes up with stale producers and a stale generation: whatever it tries to commit must fail.
    a0.resume();
    await postEvents(ref, events.slice(2000));
    const observed = await readOutput(ref, expected.length);
    expectModelOutput(observed, expected);
    const report = await waitLake(ref.lakeDir, expected.length, events.length);
    expectLakeExactlyOnce(report, expected.length, events.length);
  });
});
