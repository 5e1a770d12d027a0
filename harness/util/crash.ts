/**
 * Uncaught errors during a run: a dependency that throws from an event handler or rejects a promise nobody awaits
 * must not kill the process with Node's exit code 1 (the code for "an invariant was violated"). While a run is in
 * progress it captures them: the first one fails the run (verdict unknown, exit 3) after its faults are healed and
 * its result written. Outside a run, the CLI's own handler (see `onUncaught`) reports them and exits 3.
 *
 * Model: process-wide listeners installed once, dispatching to the runs that capture (a Set, so concurrent runs in
 * one process, as in tests, each get the error). A listener on 'uncaughtException' replaces Node's crash, so
 * capturing is scoped: `dispose()` removes the run's sink and, with the last sink, the listeners.
 */

import { StreamproofError } from './errors.ts';

export interface CrashCapture extends Disposable {
  /** Rejects with the first uncaught error after the capture began; never resolves. */
  readonly crashed: Promise<never>;
  /** Every uncaught error seen, as text (first ones only). */
  readonly errors: readonly string[];
  dispose(): void;
}

type Sink = (err: unknown, origin: string) => void;

const sinks = new Set<Sink>();
let fallback: Sink | undefined;
let installed = false;

const onUncaughtException = (err: unknown) => dispatch(err, 'uncaught exception');
const onUnhandledRejection = (err: unknown) => dispatch(err, 'unhandled rejection');

function dispatch(err: unknown, origin: string): void {
  if (sinks.size > 0) {
    for (const s of sinks) s(err, origin);
    return;
  }
  if (fallback) fallback(err, origin);
  else throw err;
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('uncaughtException', onUncaughtException);
  process.on('unhandledRejection', onUnhandledRejection);
}

function uninstallIfIdle(): void {
  if (!installed || sinks.size > 0 || fallback) return;
  installed = false;
  process.off('uncaughtException', onUncaughtException);
  process.off('unhandledRejection', onUnhandledRejection);
}

/** Text for an uncaught error: its origin and stack. */
export function describeUncaught(err: unknown, origin: string): string {
  const text = err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err);
  return `${origin}: ${text}`;
}

/** Captures uncaught errors until disposed (see the module header). */
export function captureCrashes(): CrashCapture {
  let reject: (err: Error) => void = () => {};
  const crashed = new Promise<never>((_, r) => {
    reject = r;
  });
  // The run races this promise against each phase; nobody may be racing it at the moment it rejects.
  crashed.catch(() => undefined);
  const errors: string[] = [];
  const sink: Sink = (err, origin) => {
    const text = describeUncaught(err, origin);
    if (errors.length < 10) errors.push(text);
    // A StreamproofError keeps its code (result.json says LOAD_TOPIC_MISSING, not INTERNAL); anything else is INTERNAL.
    reject(
      err instanceof StreamproofError
        ? new StreamproofError(err.code, `${origin}: ${err.message}`, err.details, { cause: err })
        : Object.assign(new Error(text), { cause: err }),
    );
  };
  sinks.add(sink);
  install();
  const dispose = () => {
    sinks.delete(sink);
    uninstallIfIdle();
  };
  return { crashed, errors, dispose, [Symbol.dispose]: dispose };
}

/** The process-wide handler for uncaught errors outside any run (the CLI's: report, exit 3). */
export function onUncaught(handler: Sink): void {
  fallback = handler;
  install();
}
