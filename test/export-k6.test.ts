/**
 * `streamproof export k6` through the CLI: scripts for three different scenarios (steady Kafka load, HTTP load with a
 * token, staged load with a target URL) type-check against @types/k6 with tsc (allowJs + checkJs, the tsconfig in
 * test/fixtures/k6), and deliberately broken copies of one do not, so the check can fail. k6 itself is never
 * installed or run (AGPL). Scenarios that cannot be exported exit 64 naming the field.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'bin', 'streamproof.js');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
// Inside the repository so module resolution finds node_modules/@types/k6 (test-artifacts/ is git-ignored).
mkdirSync(join(root, 'test-artifacts'), { recursive: true });
const dir = mkdtempSync(join(root, 'test-artifacts', 'k6-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cliRun(args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** tsc over the given files with the k6 fixture config; returns its exit code and output. */
function typecheck(name: string, files: string[]) {
  const sub = join(dir, name);
  mkdirSync(sub, { recursive: true });
  writeFileSync(
    join(sub, 'tsconfig.json'),
    JSON.stringify({
      extends: relative(sub, join(root, 'test', 'fixtures', 'k6', 'tsconfig.json')),
      include: files.map((f) => relative(sub, f)),
    }),
  );
  const r = spawnSync(process.execPath, [tsc, '-p', join(sub, 'tsconfig.json')], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, out: r.stdout + r.stderr };
}

const staged = {
  name: 'staged-http',
  sut: { command: 'node my-ingest.js', contract: 'copy' },
  events: { format: 'json', users: 2000, schemaVersion: 2 },
  load: {
    via: 'http',
    target: 'http://127.0.0.1:9200/ingest',
    batch: 30,
    stages: [
      { duration: '10s', from: 0, to: 900 },
      { duration: '20s', rate: 900 },
      { duration: '5s', rate: 2700 },
    ],
  },
  slo: { ack_latency: ['p(99)<2s', 'med<300ms'], error_rate: ['rate<0.5%'], throughput: ['avg>800/s'] },
};

describe('streamproof export k6', () => {
  const scripts: string[] = [];

  it('writes k6 scripts for three scenarios that type-check against @types/k6', () => {
    writeFileSync(join(dir, 'staged.json'), JSON.stringify(staged));
    const cases: [string, string[]][] = [
      ['smoke.js', [join(root, 'scenarios', 'smoke.json')]],
      ['http-smoke.js', [join(root, 'scenarios', 'http-smoke.json')]],
      ['staged.js', [join(dir, 'staged.json')]],
    ];
    for (const [out, args] of cases) {
      const file = join(dir, out);
      const r = cliRun(['export', 'k6', ...args, '--out', file, '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).file).toBe(file);
      scripts.push(file);
    }
    const http = readFileSync(join(dir, 'http-smoke.js'), 'utf8');
    expect(http).toContain('executor: "constant-arrival-rate"');
    expect(http).toContain('rate: 6,');
    expect(http).toContain('http_req_duration: ["p(95)<1000"]');
    expect(http).toContain('events_not_acked: ["rate<0.01"]');
    expect(http).toMatch(/e2e_latency: "p\(95\)<2s": needs the time each record reached the output topic/);
    expect(http).toContain('"http-smoke-token"');
    expect(http).toContain("'status is 202'");
    const st = readFileSync(join(dir, 'staged.js'), 'utf8');
    expect(st).toContain('executor: "ramping-arrival-rate"');
    expect(st).toContain('{"target":90,"duration":"0s"}');
    expect(st).toContain('"http://127.0.0.1:9200/ingest"');
    expect(st).toContain('http_req_duration: ["p(99)<2000","med<300"]');
    expect(st).toMatch(/throughput: "avg>800\/s"/);

    const r = typecheck('good', scripts);
    expect(r.code, r.out).toBe(0);
  });

  it('a deliberately broken script fails the same check', () => {
    const good = readFileSync(join(dir, 'http-smoke.js'), 'utf8');
    const broken: [string, string][] = [
      ['typo-executor.js', good.replace('"constant-arrival-rate"', '"constant-arrival-rat"')],
      ['unknown-api.js', good.replace('http.post(', 'http.postt(')],
      [
        'bad-check.js',
        good.replace(
          "check(res, { 'status is 202': (r) => r.status === 202 });",
          "check(res, { 'status is 202': (r) => r.statusCode === 202 });",
        ),
      ],
    ];
    for (const [name, text] of broken) {
      expect(text, name).not.toBe(good);
      const file = join(dir, name);
      writeFileSync(file, text);
      const r = typecheck(name.replace('.js', ''), [file]);
      expect(r.code, `${name}: ${r.out}`).not.toBe(0);
      expect(r.out).toContain(name);
    }
  });

  it('exits 64 naming the field for scenarios it cannot export', () => {
    const missing = cliRun(['export', 'k6', 'no-such-scenario.json']);
    expect(missing.code).toBe(64);
    expect(missing.stderr).toContain('no-such-scenario.json: no such scenario file');

    writeFileSync(join(dir, 'noload.json'), JSON.stringify({ ...staged, load: undefined }));
    const noload = cliRun(['export', 'k6', join(dir, 'noload.json')]);
    expect(noload.code).toBe(64);
    expect(noload.stderr).toContain('scenario.load');

    const { target: _t, ...noTarget } = staged.load;
    writeFileSync(
      join(dir, 'nourl.json'),
      JSON.stringify({ ...staged, load: { ...noTarget, via: 'kafka', batch: undefined } }),
    );
    const nourl = cliRun(['export', 'k6', join(dir, 'nourl.json')]);
    expect(nourl.code, nourl.stderr).toBe(64);
    expect(nourl.stderr).toContain('--url: required');

    const badUrl = cliRun(['export', 'k6', join(root, 'scenarios', 'smoke.json'), '--url', 'ftp://x']);
    expect(badUrl.code).toBe(64);
    expect(badUrl.stderr).toContain('--url');

    const badFormat = cliRun(['export', 'jmeter', join(root, 'scenarios', 'smoke.json')]);
    expect(badFormat.code).toBe(64);
    expect(badFormat.stderr).toContain('<format>: expected one of k6');
  });
});
