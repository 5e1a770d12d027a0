/**
 * Stored real results for the reporters' tests (test/fixtures/results, written by `streamproof run`), one per
 * verdict, plus a helper to derive hostile variants, and a comparable result of the reference pipeline's shape for
 * the baseline comparison's tests. Test support only; no reporter imports it.
 */
import { fileURLToPath } from 'node:url';
import type { ComparableResult } from '../harness/certify/compare.ts';
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

/** What a test of the comparison overrides in `comparableResult`. */
export type ComparableOverrides = {
  name?: string;
  verdict?: ComparableResult['verdict'];
  seed?: number;
  counts?: Partial<ComparableResult['counts']>;
  checkers?: Record<string, boolean | 'unknown'>;
  p50?: number | null;
  p95?: number | null;
  p99?: number | null;
  series?: { acked: number; observed: number }[];
  acked?: number | null;
  observed?: number | null;
};

/** A passing result of the reference pipeline's shape; `o` overrides what a test is about. */
export function comparableResult(o: ComparableOverrides = {}): ComparableResult {
  const checkers = o.checkers ?? { attribution: true, order: true, schema: true, latency: true, slo: true };
  return {
    name: o.name ?? 'steady',
    verdict: o.verdict ?? 'pass',
    seed: o.seed ?? 11,
    counts: {
      offered: 3000,
      acked: 3000,
      failed: 0,
      unknown: 0,
      observed: 7000,
      lost: 0,
      duplicated: 0,
      unexpected: 0,
      reordered: 0,
      undecodable: 0,
      unknownSeen: 0,
      unknownNotSeen: 0,
      ...o.counts,
    },
    checkers: Object.fromEntries(
      Object.entries(checkers).map(([k, v]) => [k, { valid: v, anomalyTypes: v === false ? ['duplicated'] : [] }]),
    ),
    latency: {
      e2e: {
        count: 100,
        minMs: 10,
        meanMs: 200,
        p50Ms: o.p50 === undefined ? 150 : o.p50,
        p95Ms: o.p95 === undefined ? 400 : o.p95,
        p99Ms: o.p99 === undefined ? 600 : o.p99,
        p999Ms: 700,
        maxMs: 800,
      } as NonNullable<ComparableResult['latency']['e2e']>,
      ack: null,
      series: o.series ?? [],
      recovery: [],
    },
    throughput: {
      seconds: 10,
      offeredPerSec: 300,
      ackedPerSec: o.acked === undefined ? 300 : o.acked,
      observedPerSec: o.observed === undefined ? 700 : o.observed,
    },
  };
}
