/**
 * Load workers on a real one-broker stack (harness/workers, docs/workers.md):
 * - two `streamproof worker` processes, coordinated through the control topic, offer event for event what one
 *   in-process load offers with the same seed: the same event ids offered and acked (the History's bitsets are
 *   equal), the same records in the input topic (key, partition and value, with the intended send times taken
 *   relative to each run's start), and the merged HDR ack histogram counts every event;
 * - `streamproof run` with `load.workers: 2` and a correct copier passes, the checkers running on the merged History;
 * - a worker that is killed after it joined never reports: the coordinator times out and the verdict is unknown
 *   (exit 3), never a pass over half the events.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { History } from '../harness/history/index.ts';
import { ensureTopic } from '../harness/kafka/clients.ts';
import { readTopic } from '../harness/kafka/read-topic.ts';
import { startLoad } from '../harness/load/index.ts';
import { runScenario } from '../harness/runner/run.ts';
import { validateScenario } from '../harness/runner/scenario.ts';
import { type StartedStack, startStack } from '../harness/stack/stack.ts';
import type { ProgressEvent } from '../harness/util/progress.ts';
import { coordinateLoad } from '../harness/workers/coordinator.ts';

const root = join(import.meta.dirname, '..');
const out = mkdtempSync(join(tmpdir(), 'streamproof-workers-'));
const PARTITIONS = 6;
const generator = { seed: 7, users: 500, format: 'json' as const, schemaId: 0, schemaVersion: 3 as const };

/** The topic's records as `partition|key|value`, sent_at and event_time relative to the run's start, sorted. */
async function contents(bootstrap: string, topic: string, start: number): Promise<string[]> {
  const recs = await readTopic(bootstrap, topic, { quietMs: 3000 });
  return recs
    .map((r) => {
      const v = JSON.parse(r.value.toString('utf8')) as Record<string, unknown>;
      v.sent_at = (v.sent_at as number) - start;
      v.event_time = (v.event_time as number) - start;
      return `${r.partition}|${r.key?.toString('latin1')}|${JSON.stringify(v)}`;
    })
    .sort();
}

describe('load workers on a real stack', () => {
  let stack: StartedStack;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    stack = await startStack({ brokers: 1, registry: false });
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await stack?.stop();
  });

  it('two worker processes equal one in-process load of the same seed, event for event', async () => {
    const stages = [{ duration: 4000, rate: 1500, endRate: 1500 }];
    // One process, three producers: the reference.
    const topicOne = `workers-one-${randomUUID()}`;
    await ensureTopic(stack.bootstrap, topicOne, { partitions: PARTITIONS });
    const one = new History();
    const single = await startLoad({
      bootstrap: stack.bootstrap,
      topic: topicOne,
      history: one,
      stages,
      producers: 3,
      generator,
    }).done;

    // Two worker processes, each with its slice (p % 2) and the lanes (p % 3) of the same run.
    const topicTwo = `workers-two-${randomUUID()}`;
    await ensureTopic(stack.bootstrap, topicTwo, { partitions: PARTITIONS });
    const merged = new History();
    const progress: ProgressEvent[] = [];
    const co = coordinateLoad({
      bootstrap: stack.bootstrap,
      runId: `wtest-${randomUUID().slice(0, 8)}`,
      topic: topicTwo,
      partitions: PARTITIONS,
      workers: 2,
      load: { stages, producers: 3, acksTimeoutMs: 30_000 },
      generator,
      history: merged,
      logDir: join(out, 'two'),
      progress: (e) => progress.push(e),
    });
    const { startTime } = await co.ready;
    const two = await co.done;
    console.log('single', JSON.stringify({ offered: single.offered, acked: single.acked, ack: single.ackLatency }));
    console.log(
      'workers',
      JSON.stringify({ offered: two.offered, acked: two.acked, ack: two.ackLatency, workers: two.workers }),
    );

    expect(single.offered).toBe(6000);
    expect(single.acked).toBe(6000);
    expect(two.offered).toBe(single.offered);
    expect(two.acked).toBe(single.acked);
    expect(two.failed + two.unknown).toBe(0);
    expect(two.startedAt).toBe(startTime);
    expect(two.workers.map((w) => w.index)).toEqual([0, 1]);
    for (const w of two.workers) {
      expect(w.offered).toBeGreaterThan(0);
      expect(w.lanes).toEqual([0, 1, 2]);
    }
    expect(two.workers[0]!.pid).not.toBe(two.workers[1]!.pid);
    expect(two.producerIds).toEqual(single.producerIds);

    // The History: the same event ids offered and acked, per producer id, bit for bit.
    expect(merged.outcomes.toJSON()).toEqual(one.outcomes.toJSON());
    expect(merged.outcomes.counts()).toEqual({ offered: 6000, acked: 6000, failed: 0, unknown: 0, unresolved: 0 });
    // The merged HDR ack histogram holds every event once.
    expect(merged.latency.ack.totalCount).toBe(6000);
    expect(two.ackLatency?.count).toBe(6000);

    // The input topics: the same records (key, partition, value; times relative to each run's start).
    const a = await contents(stack.bootstrap, topicOne, single.startedAt);
    const b = await contents(stack.bootstrap, topicTwo, startTime);
    expect(a.length).toBe(6000);
    expect(new Set(a).size).toBe(6000);
    expect(b).toEqual(a);
  });

  it('`load.workers: 2` in a run: a correct copier passes, checked on the merged History', async () => {
    const scenario = validateScenario({
      name: 'workers-copy',
      sut: { command: 'node --import tsx test/fixtures/copiers/transactional.ts', contract: 'copy', cwd: root },
      stack: { brokers: 1, partitions: PARTITIONS, registry: false },
      events: { format: 'json', users: 300, seed: 3 },
      load: { rate: 500, duration: '6s', producers: 2, workers: 2 },
      slo: { e2e_latency: ['p(95)<60s'] },
      drain: { quiet: '4s', timeout: '60s' },
    });
    const r = await runScenario({ scenario, outDir: join(out, 'copy'), stack });
    expect(r.error).toBeNull();
    expect(r.counts.offered).toBe(3000);
    expect(r.counts.acked).toBe(3000);
    expect(r.counts).toMatchObject({ lost: 0, duplicated: 0, unexpected: 0, reordered: 0 });
    expect(r.counts.observed).toBe(3000);
    expect((r.load as { workers: unknown[] }).workers).toHaveLength(2);
    expect(r.verdict).toBe('pass');
    expect(r.exitCode).toBe(0);
  });

  it('a worker that never reports: the coordinator times out and the verdict is unknown (exit 3)', async () => {
    const scenario = validateScenario({
      name: 'workers-missing',
      sut: { command: 'sleep 600', contract: 'copy', ready: 'none' },
      stack: { brokers: 1, partitions: PARTITIONS, registry: false },
      events: { format: 'json', users: 300, seed: 4 },
      load: { rate: 300, duration: '4s', workers: 2, workerTimeout: '20s', acksTimeout: '2s' },
      drain: { quiet: '1s', timeout: '5s' },
    });
    // One local worker; the other is started here, as on another machine, and killed -9 once the load started.
    let other: ChildProcess | undefined;
    const r = await runScenario({
      scenario,
      outDir: join(out, 'missing'),
      stack,
      spawnWorkers: 1,
      progress: (e) => {
        if (e.phase === 'workers' && typeof e.runId === 'string' && other === undefined) {
          other = spawn(
            process.execPath,
            [join(root, 'bin', 'streamproof.js'), 'worker', '--bootstrap', stack.bootstrap, '--run-id', e.runId],
            { stdio: 'ignore' },
          );
          children.push(other);
        }
        if (e.phase === 'workers' && /all 2 worker\(s\) ready/.test(e.message)) other?.kill('SIGKILL');
      },
    });
    expect(other).toBeDefined();
    expect(other!.signalCode).toBe('SIGKILL');
    expect(r.verdict).toBe('unknown');
    expect(r.exitCode).toBe(3);
    expect(r.error?.code).toBe('TIMEOUT');
    // Indexes are claimed in the control topic's order: the worker started here may have joined first (index 0).
    expect(r.error?.message).toMatch(/worker\(s\) [01] of 2 never reported/);
  });

  it('bad usage exits 64 naming the flag or field', () => {
    const cli = (args: string[]) => {
      const r = spawnSync(process.execPath, [join(root, 'bin', 'streamproof.js'), ...args], {
        cwd: out,
        encoding: 'utf8',
        timeout: 60_000,
      });
      return { code: r.status, stderr: r.stderr };
    };
    writeFileSync(
      join(out, 'w.json'),
      JSON.stringify({
        name: 'w',
        sut: { command: 'sleep 1', contract: 'copy' },
        stack: { partitions: 4 },
        load: { rate: 10, duration: '1s', workers: 2 },
      }),
    );
    let r = cli(['run', 'w.json', '--workers', '5']);
    expect(r.code, r.stderr).toBe(64);
    expect(r.stderr).toMatch(/--workers: expected an integer >= 1 and <= 4/);
    r = cli(['run', 'w.json', '--spawn-workers', '3']);
    expect(r.code, r.stderr).toBe(64);
    expect(r.stderr).toMatch(/--spawn-workers/);
    writeFileSync(
      join(out, 'w5.json'),
      JSON.stringify({
        name: 'w',
        sut: { command: 'sleep 1', contract: 'copy' },
        stack: { partitions: 4 },
        load: { rate: 10, duration: '1s', workers: 5 },
      }),
    );
    r = cli(['run', 'w5.json']);
    expect(r.code, r.stderr).toBe(64);
    expect(r.stderr).toMatch(/scenario\.load\.workers/);
    r = cli(['worker', '--run-id', 'x']);
    expect(r.code, r.stderr).toBe(64);
    expect(r.stderr).toMatch(/--bootstrap/);
    r = cli(['worker', '--bootstrap', '127.0.0.1:1', '--run-id', 'a b']);
    expect(r.code, r.stderr).toBe(64);
    expect(r.stderr).toMatch(/--run-id/);
  });
});
