/**
 * Durations as scenarios write them: "250ms", "5s", "2m", "1h", or a plain number of milliseconds.
 */
import { StreamproofError } from './errors.ts';

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds of a duration, or a USAGE/INVALID_SCENARIO error that names `path`. */
export function parseDuration(
  value: unknown,
  path: string,
  code: 'USAGE' | 'INVALID_SCENARIO' = 'INVALID_SCENARIO',
): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  if (typeof value === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/.exec(value);
    if (m) return Number(m[1]) * units[m[2]!]!;
  }
  throw new StreamproofError(
    code,
    `${path}: expected a duration like "10s", "250ms" or "2m", got ${JSON.stringify(value)}`,
    { path },
  );
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${+(ms / 1000).toFixed(2)}s`;
  return `${+(ms / 60_000).toFixed(2)}m`;
}
