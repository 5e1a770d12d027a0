/**
 * Waiting as a strategy with a deadline and a precise message (testcontainers style), never a bare sleep.
 * `check` returns true when ready; `failFast` returns an error message when waiting is pointless (the process died).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { StreamproofError } from '../util/errors.ts';

export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  opts: { timeoutMs: number; intervalMs?: number; failFast?: () => string | undefined | Promise<string | undefined> },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  for (;;) {
    const fatal = await opts.failFast?.();
    if (fatal) throw new StreamproofError('STACK_START_FAILED', fatal);
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new StreamproofError('TIMEOUT', `${what} not ready after ${opts.timeoutMs} ms${why}`);
    }
    await sleep(opts.intervalMs ?? 200);
  }
}

export async function httpOk(url: string, timeoutMs = 2000): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  await res.arrayBuffer();
  return res.ok;
}
