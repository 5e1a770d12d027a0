/** Small tools: timeouts within the run's budget, error text, load average, a phase that may fail. */
import os from 'node:os';
import { deadline, log } from './options.ts';

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** A phase may take this long: generous for a slow shared machine, but bounded and never past the run's budget. */
export function phaseTimeout(records: number): number {
  const wanted = Math.max(60_000, (records / 2_000) * 1000);
  return Math.max(5_000, Math.min(wanted, deadline - Date.now()));
}

export function errText(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: unknown }).cause;
    const errors = (err as Error & { errors?: unknown[] }).errors;
    const inner = errors?.length ? `: ${errors.map(errText).join('; ')}` : cause ? ` (cause: ${errText(cause)})` : '';
    return `${err.name}: ${err.message}${inner}`.slice(0, 400);
  }
  return String(err);
}

export function loadavg(): [number, number, number] {
  const [a = 0, b = 0, c = 0] = os.loadavg();
  return [Number(a.toFixed(2)), Number(b.toFixed(2)), Number(c.toFixed(2))];
}

export async function attempt<T>(what: string, f: () => Promise<T>): Promise<T | { error: string }> {
  if (Date.now() > deadline - 5_000) return { error: 'skipped: time budget spent' };
  try {
    return await f();
  } catch (err) {
    log(`${what} failed: ${errText(err)}`);
    return { error: errText(err) };
  }
}
