/** SIGTERM / SIGINT = graceful stop: run `stop` once, then exit 0 (or 1 if stopping failed). */
import type { Logger } from './log.ts';
import { errorFields } from './log.ts';

export function onShutdown(log: Logger, stop: () => Promise<void>, graceMs = 20_000): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log('stopping', { signal });
    const timer = setTimeout(() => {
      log('graceful stop timed out; exiting', { graceMs });
      process.exit(1);
    }, graceMs);
    timer.unref();
    stop().then(
      () => {
        log('stopped');
        process.exit(0);
      },
      (err) => {
        log('stop failed', errorFields(err));
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => handler('SIGTERM'));
  process.on('SIGINT', () => handler('SIGINT'));
}

/** Resolves after `ms` unless `signal` aborts first (then resolves early). */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** `p`, or a rejection naming `what` after `ms`: a Kafka call that never settles must fail the batch, not hang it. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Starts something that needs the cluster (a consumer session joining its group), retrying with a backoff for up to
 * `withinMs`: a process started while a broker or its group coordinator is down (a restart during a rolling restart
 * or a broker fault) rides it out, as it would ride out the same outage later; one that still cannot start after
 * that (a wrong address, a cluster that is not there) fails to start, with the last error.
 */
export async function startWithin<T>(
  start: () => Promise<T>,
  withinMs: number,
  onRetry: (err: unknown, attempt: number) => void,
): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (Date.now() >= deadline) throw err;
      onRetry(err, attempt);
      await pause(Math.min(5_000, 250 * 2 ** Math.min(attempt, 5), Math.max(0, deadline - Date.now())));
    }
  }
}

/**
 * Runs synchronous jobs one per turn of the event loop, in the order given: each waits for the previous job, then for
 * the next turn (a setImmediate queued after the previous job ran), so timers due meanwhile (a consumer's heartbeats)
 * run between two long jobs.
 */
export function turnTaker(): <T>(job: () => T) => Promise<T> {
  let queue: Promise<unknown> = Promise.resolve();
  return <T>(job: () => T): Promise<T> => {
    const run = queue.then(() => new Promise<void>((resolve) => setImmediate(resolve))).then(job);
    queue = run.catch(() => {});
    return run;
  };
}
