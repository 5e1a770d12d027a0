/**
 * The example pipelines that transform (examples/kafka-streams-enrich, examples/kafka-streams-count), each certified
 * through the CLI exactly as its README says (`streamproof run <its scenario.json> --sut "<run.sh mode>"`), and each
 * deliberately broken twin caught with the anomaly its README names:
 *
 * - enrich (lineage contract): exactly-once passes (exit 0); `overfilter` drops one click in seven: `lost`;
 *   `at-least-once` writes again, after the kill -9, what it wrote since its last commit: `duplicated`.
 * - enrich with 2% bad events (scenario-bad.json, its dead-letter topic): exactly-once dead-letters each once with
 *   its reason (accounting passes); `drop-bad` drops them silently: `dlq-missing`.
 * - count (model contract, examples/models/clicks-per-user.ts): exactly-once passes; `at-least-once` counts again,
 *   after the kill -9, the clicks it had counted since its last commit: `mismatch`.
 *
 * Every scenario kills the pipeline 4 s into a 12 s load and restarts it 1 s later; the restarted Kafka Streams
 * instance waits for the dead member's session to expire (45 s by default), so a run takes ~70 s. Two runs at a time
 * on one `stack up` stack (a private state directory); scripts/build-examples.mjs (Maven; cached) builds the
 * examples first.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'bin', 'streamproof.js');
const out = mkdtempSync(join(tmpdir(), 'streamproof-examples-transform-'));
const state = join(out, 'state');
const RUN_MS = 200_000;
const ENRICH = 'examples/kafka-streams-enrich';
const COUNT = 'examples/kafka-streams-count';
/** The enrich example with 2% bad events and its dead-letter topic (no fault: the data-quality path alone). */
const BAD = 'scenario-bad.json';

interface Result {
  verdict: string;
  exitCode: number;
  replay: string;
  counts: Record<string, number>;
  checkers: Record<string, { valid: boolean | 'unknown'; anomalyTypes?: string[] }>;
  notes: string[];
}

interface Certified {
  code: number | null;
  result: Result;
  /** Every anomaly type any checker named. */
  anomalies: string[];
  /** What a failed expectation prints: exit code, counts, checkers, the replay command and the CLI's last lines. */
  why: string;
}

const env = { ...process.env, STREAMPROOF_STATE: state, CI: 'true' };

function runCliSync(args: string[], timeout: number) {
  const res = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout, env });
  return { code: res.status, stderr: res.stderr };
}

/** Runs the CLI without blocking the event loop (two certifications share the machine at a time). */
function runCli(args: string[], timeout = RUN_MS): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr = (stderr + d).slice(-20_000);
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeout);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

/** At most `n` certifications at once: each holds a JVM pipeline and the harness's clients on a 2-core machine. */
function limiter(n: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(job: () => Promise<T>): Promise<T> => {
    if (active >= n) await new Promise<void>((r) => waiting.push(r));
    active++;
    try {
      return await job();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}
const slot = limiter(2);

/** One certification: `streamproof run <example>/scenario.json --sut "<example>/run.sh <mode>" --json`. */
async function certify(example: string, mode: string, scenario = 'scenario.json'): Promise<Certified> {
  const name = `${example.split('/').pop()}-${mode}-${scenario.replace('.json', '')}`;
  const dir = join(out, name);
  const args = ['run', `${example}/${scenario}`, '--sut', `${example}/run.sh ${mode}`];
  const r = await slot(() => runCli([...args, '--stack', 'running', '--out', dir, '--json']));
  const tail = r.stderr.trimEnd().split('\n').slice(-15).join('\n');
  let result: Result;
  try {
    result = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as Result;
  } catch (err) {
    throw new Error(`${name}: exit ${r.code}, no result.json (${(err as Error).message})\n${tail}`);
  }
  const anomalies = [...new Set(Object.values(result.checkers).flatMap((c) => c.anomalyTypes ?? []))].sort();
  const checkers = Object.entries(result.checkers).map(([k, c]) => `${k}=${c.valid}`);
  const why =
    `${name}: exit ${r.code}, anomalies [${anomalies.join(', ')}], checkers ${checkers.join(' ')}, ` +
    `counts ${JSON.stringify(result.counts)}, notes ${JSON.stringify(result.notes)}\n` +
    `replay: ${result.replay}\n${tail}`;
  return { code: r.code, result, anomalies, why };
}

function expectPass(r: Certified) {
  expect(r.code, r.why).toBe(0);
  expect(r.result.verdict, r.why).toBe('pass');
  expect(r.anomalies, r.why).toEqual([]);
}

/** Exit 1, caught by a checker with `anomaly` (other anomalies may come with it, but not instead of it). */
function expectCaught(r: Certified, anomaly: string) {
  expect(r.code, r.why).toBe(1);
  expect(r.result.verdict, r.why).toBe('fail');
  expect(r.anomalies, r.why).toContain(anomaly);
}

describe('example pipelines that transform (examples/), certified under kill -9, with their broken twins', () => {
  // Started at once, awaited by each case: runs overlap two at a time.
  const runs = new Map<string, Promise<Certified>>();
  const started = (example: string, mode: string, scenario = 'scenario.json') =>
    runs.get(`${example} ${mode} ${scenario}`)!;

  beforeAll(() => {
    const build = spawnSync(
      process.execPath,
      [join(root, 'scripts', 'build-examples.mjs'), 'kafka-streams-enrich', 'kafka-streams-count'],
      { cwd: root, encoding: 'utf8', timeout: 540_000 },
    );
    expect(build.status, build.stderr).toBe(0);
    const up = runCliSync(['stack', 'up', '--json'], 300_000);
    expect(up.code, up.stderr).toBe(0);
    const cases: [string, string, string?][] = [
      [ENRICH, 'at-least-once'],
      [COUNT, 'at-least-once'],
      [ENRICH, 'exactly-once'],
      [COUNT, 'exactly-once'],
      [ENRICH, 'overfilter'],
      [ENRICH, 'exactly-once', BAD],
      [ENRICH, 'drop-bad', BAD],
    ];
    for (const [example, mode, scenario = 'scenario.json'] of cases) {
      const p = certify(example, mode, scenario);
      p.catch(() => {}); // judged by its own case
      runs.set(`${example} ${mode} ${scenario}`, p);
    }
  });

  afterAll(async () => {
    await Promise.allSettled(runs.values());
    runCliSync(['stack', 'down'], 120_000);
  });

  const timeout = 3 * RUN_MS;

  it(
    'enrich, exactly_once_v2: every click and conversion once, no impression (lineage): exit 0',
    async () => {
      const r = await started(ENRICH, 'exactly-once');
      expectPass(r);
      expect(r.result.counts.offered, r.why).toBeGreaterThan(3000);
    },
    timeout,
  );

  it(
    'enrich, overfilter (drops clicks with user_seq % 7 == 3): caught as lost',
    async () => {
      const r = await started(ENRICH, 'overfilter');
      expectCaught(r, 'lost');
      expect(r.anomalies, r.why).not.toContain('duplicated');
    },
    timeout,
  );

  it(
    'enrich, at_least_once: re-emits after the kill -9, caught as duplicated',
    async () => {
      const r = await started(ENRICH, 'at-least-once');
      expectCaught(r, 'duplicated');
      expect(r.anomalies, r.why).not.toContain('lost');
    },
    timeout,
  );

  it(
    'enrich with 2% bad events: each dead-lettered once with its reason (accounting), none in the output: exit 0',
    async () => {
      const r = await started(ENRICH, 'exactly-once', BAD);
      expectPass(r);
      const d = (r.result as unknown as { dlq: { counts: Record<string, number>; byReason: Record<string, number> } })
        .dlq;
      expect(d.counts.bad, r.why).toBeGreaterThan(20);
      expect(d.counts.deadLettered, r.why).toBe(d.counts.bad);
      expect(Object.keys(d.byReason).length, r.why).toBeGreaterThan(1);
      expect(r.result.checkers.accounting?.valid, r.why).toBe(true);
    },
    timeout,
  );

  it(
    'enrich that drops bad events silently: caught as dlq-missing',
    async () => {
      const r = await started(ENRICH, 'drop-bad', BAD);
      expectCaught(r, 'dlq-missing');
      expect(r.result.checkers.lineage?.valid, r.why).toBe(true);
    },
    timeout,
  );

  it(
    'count, exactly_once_v2: the last count per user equals the model (clicks-per-user): exit 0',
    async () => {
      expectPass(await started(COUNT, 'exactly-once'));
    },
    timeout,
  );

  it(
    'count, at_least_once without a record cache: double-counts after the kill -9, caught as mismatch',
    async () => {
      expectCaught(await started(COUNT, 'at-least-once'), 'mismatch');
    },
    timeout,
  );
});
