/**
 * Helpers of the reference pipeline's integration test (test/reference-pipeline.test.ts): starting the reference on
 * the test's stack, offering and reading traffic, and the oracles (the attribution model, the lake's commit log).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { Admin, Consumer } from '@platformatic/kafka';
import { expect } from 'vitest';
import { createBulkGenerator } from '../generators/bulk.ts';
import type { Event } from '../generators/event.ts';
import { encodeJson } from '../generators/schemas.ts';
import { closeNow } from '../harness/kafka/clients.ts';
import type { StartedStack } from '../harness/stack/stack.ts';
import { type LakeReport, lakeReport } from '../reference-pipeline/analytics/analytics.ts';
import { type ReferenceOptions, type StartedReference, startReference } from '../reference-pipeline/index.ts';
import { committedFiles } from '../reference-pipeline/lake/commit-log.ts';
import type { AttributionRecord } from '../reference-pipeline/model/index.ts';

/** The test's stack (set in its beforeAll) and the scratch directories to remove after it. */
export const ctx: { stack: StartedStack; dirs: string[] } = { stack: undefined as unknown as StartedStack, dirs: [] };

export function scratchDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'streamproof-ref-test-'));
  ctx.dirs.push(d);
  return d;
}

/** A fresh reference pipeline with its own names, on the proxied bootstrap. */
export async function reference(
  overrides: Partial<ReferenceOptions> = {},
): Promise<StartedReference & { lakeDir: string }> {
  const id = randomUUID().slice(0, 8);
  const dir = scratchDir();
  const lakeDir = join(dir, 'lake');
  const ref = await startReference({
    bootstrap: ctx.stack.proxiedBootstrap,
    registryUrl: ctx.stack.registryUrl,
    lakeDir,
    logDir: join(dir, 'logs'),
    partitions: 4,
    inputTopic: `events-${id}`,
    outputTopic: `attributions-${id}`,
    changelogTopic: `attributor-state-${id}`,
    groupId: `ref-${id}`,
    ...overrides,
  });
  return Object.assign(ref, { lakeDir });
}

/** Seeded traffic with plenty of conversions, so every model has records to check. */
export function traffic(seed: number, n: number, users = 150, producerId = 0): Event[] {
  const gen = createBulkGenerator({
    seed,
    format: 'json',
    users,
    producerId,
    typeWeights: { impression: 55, click: 25, conversion: 20 },
  });
  const batch = gen.nextBatch(n);
  return Array.from({ length: n }, (_, i) => batch.event(i));
}

/** Bearer token per pipeline, for the tests that start their collector with one. */
export const tokens = new WeakMap<StartedReference, string>();

export async function post(ref: StartedReference, lines: string[]): Promise<{ status: number; body: PostBody }> {
  const token = tokens.get(ref);
  for (;;) {
    const res = await fetch(`${ref.collectorUrl}/v1/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-ndjson',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: `${lines.join('\n')}\n`,
    });
    const body = (await res.json()) as PostBody;
    if (res.status === 429) {
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    return { status: res.status, body };
  }
}

export interface PostBody {
  accepted: number;
  rejected: number;
  results: { index: number; status: 'accepted' | 'rejected'; reason?: string; event_id?: string }[];
}

export async function postEvents(ref: StartedReference, events: readonly Event[], chunk = 500): Promise<void> {
  for (let i = 0; i < events.length; i += chunk) {
    const part = events.slice(i, i + chunk);
    const { status, body } = await post(
      ref,
      part.map((e) => encodeJson(e).toString()),
    );
    expect(status, JSON.stringify(body).slice(0, 500)).toBe(202);
    expect(body.accepted).toBe(part.length);
  }
}

/**
 * Reads `topic` (read_committed unless told) from the start until `expected` records arrived and then `idleMs` passed
 * without another one (so duplicates that follow are seen too), or `timeoutMs` passed.
 */
export async function readTopic(
  topic: string,
  expected: number,
  { timeoutMs = 120_000, idleMs = 2_000, isolationLevel = 1 } = {},
): Promise<{ key: string; value: Buffer; headers: Map<string, string> }[]> {
  const consumer = new Consumer({
    clientId: 'ref-test-reader',
    groupId: `ref-test-${randomUUID()}`,
    bootstrapBrokers: [ctx.stack.bootstrap],
    maxWaitTime: 200,
    timeout: 20_000,
  });
  const got: { key: string; value: Buffer; headers: Map<string, string> }[] = [];
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false, isolationLevel });
    const deadline = setTimeout(() => void stream.close(), timeoutMs);
    let idle: NodeJS.Timeout | undefined;
    try {
      for await (const m of stream) {
        const h = new Map<string, string>();
        for (const [k, v] of m.headers as Map<Buffer, Buffer>) h.set(k.toString(), v.toString());
        got.push({ key: (m.key as Buffer | null)?.toString() ?? '', value: m.value as Buffer, headers: h });
        if (got.length >= expected) {
          clearTimeout(idle);
          idle = setTimeout(() => void stream.close(), idleMs);
        }
      }
    } finally {
      clearTimeout(deadline);
      clearTimeout(idle);
      await stream.close().catch(() => {});
    }
  } finally {
    await closeNow(consumer);
  }
  return got;
}

/** Output equals the model: same ids, once each, same fields (time-decay credit within 1e-9). */
export function expectModelOutput(observed: AttributionRecord[], expected: readonly AttributionRecord[]): void {
  const seen = new Map<string, number>();
  for (const r of observed) seen.set(r.record_id, (seen.get(r.record_id) ?? 0) + 1);
  const duplicated = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
  expect(duplicated, 'duplicated record ids').toEqual([]);
  const want = new Map(expected.map((r) => [r.record_id, r]));
  const lost = [...want.keys()].filter((id) => !seen.has(id));
  const unexpected = [...seen.keys()].filter((id) => !want.has(id));
  expect({ lost: lost.slice(0, 10), unexpected: unexpected.slice(0, 10) }).toEqual({ lost: [], unexpected: [] });
  for (const r of observed) {
    const w = want.get(r.record_id)!;
    if (r.model === 'time-decay') {
      expect(Math.abs(r.credit - w.credit), r.record_id).toBeLessThanOrEqual(1e-9);
      expect({ ...r, credit: 0 }).toEqual({ ...w, credit: 0 });
    } else {
      expect(r).toEqual(w);
    }
  }
  expect(observed.length).toBe(expected.length);
}

export async function readOutput(ref: StartedReference, expected: number): Promise<AttributionRecord[]> {
  const got = await readTopic(ref.topics.output, expected);
  return got.map((m) => JSON.parse(m.value.toString()) as AttributionRecord);
}

/** Waits until the committed lake holds `attributions` and `events` rows (or more), then returns its report. */
export async function waitLake(
  lakeDir: string,
  attributions: number,
  events: number,
  timeoutMs = 120_000,
): Promise<LakeReport> {
  const deadline = Date.now() + timeoutMs;
  let report: LakeReport | undefined;
  for (;;) {
    report = await lakeReport(lakeDir);
    const e = report.exactlyOnce;
    if (e.attributions.rows >= attributions && e.events.rows >= events) return report;
    if (Date.now() > deadline) {
      throw new Error(
        `lake not complete after ${timeoutMs} ms: ${e.attributions.rows}/${attributions} attributions, ${e.events.rows}/${events} events`,
      );
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

export async function waitMetric(
  read: () => Promise<Map<string, number>>,
  name: string,
  ok: (v: number) => boolean,
  timeoutMs = 60_000,
  intervalMs = 20,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = (await read().catch(() => new Map<string, number>())).get(name) ?? 0;
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`metric ${name} not as expected after ${timeoutMs} ms (last ${v})`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export function sumMetric(m: Map<string, number>, prefix: string): number {
  let s = 0;
  for (const [k, v] of m) if (k === prefix || k.startsWith(`${prefix}{`)) s += v;
  return s;
}

export function expectLakeExactlyOnce(report: LakeReport, attributions: number, events: number): void {
  expect(report.exactlyOnce.attributions.duplicates).toEqual([]);
  expect(report.exactlyOnce.events.duplicates).toEqual([]);
  expect(report.exactlyOnce.attributions.rows).toBe(attributions);
  expect(report.exactlyOnce.attributions.distinct).toBe(attributions);
  expect(report.exactlyOnce.events.rows).toBe(events);
  expect(report.exactlyOnce.events.distinct).toBe(events);
  expect(report.exactlyOnce.valid).toBe(true);
}

/** Partitions whose last stable offset is behind the high watermark: a transaction is open there. */
export async function openTransactionPartitions(topics: string[], partitions: number): Promise<string[]> {
  const admin = new Admin({ clientId: 'ref-test-admin', bootstrapBrokers: [ctx.stack.bootstrap] });
  try {
    const request = topics.map((name) => ({
      name,
      partitions: Array.from({ length: partitions }, (_, partitionIndex) => ({ partitionIndex, timestamp: -1n })),
    }));
    const ends = async (isolationLevel: 0 | 1) => {
      const out = new Map<string, bigint>();
      for (const t of await admin.listOffsets({ topics: request, isolationLevel })) {
        for (const p of t.partitions) out.set(`${t.name}/${p.partitionIndex}`, p.offset);
      }
      return out;
    };
    const [hw, lso] = [await ends(0), await ends(1)];
    return [...hw].filter(([k, v]) => (lso.get(k) ?? v) < v).map(([k]) => k);
  } finally {
    await admin.close().catch(() => {});
  }
}

export function uncommittedParquet(lakeDir: string): string[] {
  const keep = new Set(committedFiles(lakeDir).map((f) => f.path));
  const out: string[] = [];
  const walk = (d: string) => {
    let entries: import('node:fs').Dirent[] = [];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const abs = join(d, e.name);
      if (e.isDirectory()) walk(abs);
      else if (e.name.endsWith('.parquet')) {
        const rel = relative(lakeDir, abs).split(sep).join('/');
        if (!keep.has(rel)) out.push(rel);
      }
    }
  };
  walk(lakeDir);
  return out;
}
