/**
 * Stored real results for the reporters' tests (test/fixtures/results, written by `streamproof run`), one per
 * verdict, plus a helper to derive hostile variants. Test support only; no reporter imports it.
 */
import { fileURLToPath } from 'node:url';
import type { RunResult } from '../harness/runner/result.ts';
import { loadResult } from './input.ts';

export const FIXTURES = {
  /** chaos-matrix: 11 faults, every invariant held. */
  pass: 'chaos-matrix.json',
  /** copy-kill with the autocommit copier: records lost in the kill window. */
  fail: 'copy-kill-autocommit.json',
  /** copy-kill with the transactional copier on a busy machine: exactly-once held, p95 over its limit. */
  sloBreach: 'copy-kill.json',
  /** A SUT that exits before it is ready: harness error, verdict unknown. */
  unknown: 'sut-exits.json',
} as const;

export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`../test/fixtures/results/${name}`, import.meta.url));
}

export function fixture(kind: keyof typeof FIXTURES): RunResult {
  return loadResult(fixturePath(FIXTURES[kind]));
}

/** Text that breaks naive XML / HTML / Markdown writers. */
export const NASTY = `<&"'> ]]> </script><script>x</script> \u0001\u0008\u001f | \`code\` \ud800 -- <!-- end`;

/** Whether text still holds a C0 control character other than tab, newline and carriage return. */
export function hasControlChars(s: string): boolean {
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (c < 32 && c !== 9 && c !== 10 && c !== 13) return true;
  }
  return false;
}
