/**
 * `streamproof report`: re-renders a stored result in every format; bad usage exits 64 naming the flag or file.
 * No stack needed: the command only reads a result.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../reports/fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'streamproof-report-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/streamproof.js', 'report', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const RESULT = fixturePath('copy-kill-autocommit.json');

describe('streamproof report', () => {
  it('writes Markdown to stdout', () => {
    const r = cli(RESULT, '--format', 'md');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^# streamproof: copy-kill\n\n\*\*Verdict: FAIL\*\*/);
  });

  it('writes JUnit, HTML and JSON to --out', () => {
    for (const [format, file] of [
      ['junit', 'x/junit.xml'],
      ['html', 'report.html'],
      ['json', 'result.json'],
    ] as const) {
      const out = join(dir, file);
      const r = cli(RESULT, '--format', format, '--out', out);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`report: wrote ${out}`);
      const text = readFileSync(out, 'utf8');
      if (format === 'junit') expect(text).toContain('<testsuites ');
      if (format === 'html') expect(text).toMatch(/^<!doctype html>/);
      if (format === 'json') expect(JSON.parse(text)).toEqual(JSON.parse(readFileSync(RESULT, 'utf8')));
    }
  });

  it.each([
    [['--format', 'pdf'], '--format: expected one of html, md, junit, json, got "pdf"'],
    [['--format'], 'argument missing'],
    [[], '--format: expected one of html, md, junit, json, got nothing'],
    [['--format', 'md', '--colour'], "Unknown option '--colour'"],
  ])('bad flags %j exit 64 naming the flag', (args, message) => {
    const r = cli(RESULT, ...args);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
  });

  it('a missing or foreign file exits 64 naming the file', () => {
    const missing = join(dir, 'missing.json');
    let r = cli(missing, '--format', 'md');
    expect(r.code).toBe(64);
    expect(r.stderr).toContain(`${missing}: cannot read the result file`);
    const foreign = join(dir, 'package.json');
    writeFileSync(foreign, '{"name":"x"}');
    r = cli(foreign, '--format', 'html');
    expect(r.code).toBe(64);
    expect(r.stderr).toContain(`${foreign}: format: expected "streamproof.result/1", got none`);
    r = cli('--format', 'md');
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('report: expected one result.json, got 0');
  });
});
