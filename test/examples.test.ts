/**
 * The example pipelines of examples/ on other Kafka clients, each certified through the CLI exactly as its README
 * says (`streamproof run scenarios/copy-kill.json --sut "<command>"`): Kafka's Java client, Kafka Streams and
 * confluent-kafka (librdkafka), each exactly-once and at-least-once, and Kafka's own TransactionalMessageCopier under
 * its own after-load scenario. The exactly-once ones lose and duplicate nothing under kill -9 (exit 0, or 2 when the
 * restarted consumer's wait for the dead member's session, 45 s by default, honestly breaches the 2 s p95 SLO); the
 * at-least-once ones are caught with the duplicates they really write (exit 1).
 *
 * One `stack up` stack (a private state directory) for all runs; scripts/build-examples.mjs (Maven, pip; cached)
 * builds the examples first. Each run takes 60-100 s.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'bin', 'streamproof.js');
const out = mkdtempSync(join(tmpdir(), 'streamproof-examples-'));
const state = join(out, 'state');
const RUN_MS = 280_000;

interface Result {
  verdict: string;
  exitCode: number;
  counts: Record<string, number>;
  checkers: Record<string, { valid: boolean | 'unknown'; anomalyTypes: string[] }>;
  slo: { breaches: { metric: string }[] };
  latency: { e2e: { p50Ms: number; p95Ms: number } };
  notes: string[];
}

function runCli(args: string[], timeout = RUN_MS) {
  const res = spawnSync(process.execPath, [cli, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout,
    env: { ...process.env, STREAMPROOF_STATE: state, CI: 'true' },
  });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

/** One certification run of `sut` under `scenario` (default the README's copy-kill), its exit code and result.json. */
function certify(name: string, sut: string, scenario = 'scenarios/copy-kill.json') {
  const dir = join(out, name);
  const args = ['run', scenario, '--stack', 'running', '--out', dir, '--json'];
  const r = runCli(sut ? [...args, '--sut', sut] : args);
  const result = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as Result;
  const tail = r.stderr.trimEnd().split('\n').slice(-15).join('\n');
  const why = `${name}: exit ${r.code}, ${JSON.stringify(result.counts)}, notes ${JSON.stringify(result.notes)}\n${tail}`;
  return { code: r.code, result, why };
}

/** Exactly-once: nothing lost, duplicated or reordered; exit 0, or 2 with only the latency SLO breached. */
function expectExactlyOnce(r: ReturnType<typeof certify>, offered = 40_000) {
  expect([0, 2], r.why).toContain(r.code);
  expect(r.result.counts, r.why).toMatchObject({ offered, lost: 0, duplicated: 0, unexpected: 0, reordered: 0 });
  expect(r.result.counts.observed, r.why).toBe(r.result.counts.acked);
  expect(r.result.checkers['exactly-once']!.valid, r.why).toBe(true);
  expect(r.result.checkers.order!.valid, r.why).toBe(true);
  if (r.code === 2) expect(r.result.slo.breaches.map((b) => b.metric)).toEqual(['e2e_latency']);
}

/** At-least-once under kill -9: the records copied since the last commit come out twice, and the run says so. */
function expectDuplicates(r: ReturnType<typeof certify>) {
  expect(r.code, r.why).toBe(1);
  expect(r.result.verdict).toBe('fail');
  expect(r.result.counts.duplicated, r.why).toBeGreaterThan(0);
  expect(r.result.counts.lost, r.why).toBe(0);
  expect(r.result.checkers['exactly-once']!.anomalyTypes, r.why).toContain('duplicated');
}

describe('example pipelines on other Kafka clients (examples/), certified under kill -9', () => {
  beforeAll(() => {
    const build = spawnSync(process.execPath, [join(root, 'scripts', 'build-examples.mjs')], {
      cwd: root,
      encoding: 'utf8',
      timeout: 540_000,
    });
    expect(build.status, build.stderr).toBe(0);
    const up = runCli(['stack', 'up', '--json'], 300_000);
    expect(up.code, up.stderr).toBe(0);
  });

  afterAll(() => {
    runCli(['stack', 'down'], 120_000);
  });

  it(
    'Java client, exactly-once (transactions, read_committed): nothing lost or duplicated',
    () => {
      expectExactlyOnce(certify('java-eos', 'examples/java-copier/run.sh exactly-once'));
    },
    RUN_MS + 10_000,
  );

  it(
    'Java client, at-least-once (auto-commit, plain producer): caught with duplicates',
    () => {
      expectDuplicates(certify('java-alo', 'examples/java-copier/run.sh at-least-once'));
    },
    RUN_MS + 10_000,
  );

  it(
    'Kafka Streams, exactly_once_v2: nothing lost or duplicated',
    () => {
      expectExactlyOnce(certify('streams-eos', 'examples/kafka-streams-copier/run.sh exactly-once'));
    },
    RUN_MS + 10_000,
  );

  it(
    'Kafka Streams, at_least_once: caught with duplicates',
    () => {
      expectDuplicates(certify('streams-alo', 'examples/kafka-streams-copier/run.sh at-least-once'));
    },
    RUN_MS + 10_000,
  );

  it(
    'confluent-kafka (librdkafka), transactional: nothing lost or duplicated',
    () => {
      expectExactlyOnce(certify('python-tx', 'examples/python-copier/run.sh transactional'));
    },
    RUN_MS + 10_000,
  );

  it(
    'confluent-kafka (librdkafka), auto-commit: caught with duplicates',
    () => {
      expectDuplicates(certify('python-alo', 'examples/python-copier/run.sh at-least-once'));
    },
    RUN_MS + 10_000,
  );

  it(
    "Kafka's TransactionalMessageCopier over a preloaded input: nothing lost or duplicated",
    () => {
      const r = certify('kafka-tools', '', 'examples/kafka-tools-copier/scenario.json');
      expectExactlyOnce(r);
      // The copier exits by itself once it has copied what it was assigned: a note, never a failure.
      for (const n of r.result.notes.filter((x) => x.includes('exited by itself'))) expect(n).toMatch(/code 0/);
    },
    RUN_MS + 10_000,
  );
});
