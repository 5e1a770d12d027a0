/**
 * The runner's small helpers, apart from its phases (run.ts): errors tagged with the phase they escaped from, the
 * error of a failed run with the logs to read, the stack's own health after the load, the drain's note, the replay
 * command.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { alive } from '../stack/process.ts';
import type { StartedStack } from '../stack/stack.ts';
import { StreamproofError } from '../util/errors.ts';
import type { DrainReport } from './drain.ts';
import type { RunError } from './result.ts';
import type { Scenario } from './scenario.ts';
import type { StartedSut } from './sut.ts';

/** An error with the phase it escaped from (the phase variable may have moved on: load and faults overlap). */
export function inPhase(phase: string): (err: unknown) => never {
  return (err) => {
    throw Object.assign(err instanceof Error ? err : new Error(String(err)), { runPhase: phase });
  };
}

/**
 * The stack itself must have survived: a dead Toxiproxy took every SUT connection with it, a dead broker is not a
 * fault we injected. Either way the run says nothing about the pipeline: verdict unknown.
 */
export async function assertStackAlive(stack: StartedStack): Promise<void> {
  if (stack.external) return; // not ours to watch: a broken external cluster fails the drain instead
  if (stack.deadParts) {
    const dead = await stack.deadParts();
    if (dead) throw new StreamproofError('STACK_START_FAILED', `${dead} during the run`);
    return;
  }
  const st = stack.status();
  if (!alive(st.toxiproxy.pid)) {
    throw new StreamproofError(
      'STACK_START_FAILED',
      `toxiproxy (pid ${st.toxiproxy.pid}) died during the run; see ${join(st.dir, 'toxiproxy.log')}`,
    );
  }
  const deadBrokers = st.kafka.brokers.filter((b) => !b.running);
  if (deadBrokers.length) {
    throw new StreamproofError(
      'STACK_START_FAILED',
      `broker(s) ${deadBrokers.map((b) => b.id).join(', ')} died during the run; see ${deadBrokers[0]!.log}`,
    );
  }
}

/** What an incomplete drain means for the verdict, and the setting to change. */
export function drainNote(d: DrainReport, sc: Scenario): string {
  const waited = `${(d.waitedMs / 1000).toFixed(1)} s`;
  const lag =
    d.lagAtEnd === null
      ? 'the pipeline commits no offsets to its group'
      : `the pipeline's consumer group still had ${d.lagAtEnd} input record(s) to commit`;
  return `drain: incomplete after ${waited} (drain.timeout ${sc.drain.timeoutMs / 1000} s): ${lag}. Missing records it had not committed past are unseen, not lost; raise drain.timeout (e.g. "${Math.ceil((sc.drain.timeoutMs * 2) / 1000)}s") if the pipeline recovers slowly`;
}

/** The error of a failed run: code, message, the phase it happened in, and where the logs are. */
export function runError(err: unknown, phase: string, outDir: string, sut: StartedSut | undefined): RunError {
  const runPhase = (err as { runPhase?: string } | null)?.runPhase ?? phase;
  const e =
    err instanceof StreamproofError
      ? err
      : new StreamproofError('INTERNAL', `the run failed: ${(err as Error)?.stack ?? err}`);
  return {
    code: e.code,
    message: e.message,
    phase: runPhase,
    logs: {
      dir: outDir,
      sut: (sut?.instances ?? []).map((i) => ({ name: i.name, file: i.logFile, tail: tail(i.logFile, 20) })),
    },
  };
}

/** The last `lines` lines of a file; none when it cannot be read. */
export function tail(file: string, lines: number): string[] {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines);
  } catch {
    return [];
  }
}

/** The command that replays a run: `replayBase` (default `streamproof run <file>`) and the seed. */
export function replayCommand(
  opts: { replayBase?: string; scenarioFile?: string; scenario: Pick<Scenario, 'name'> },
  seed: number,
): string {
  const base = opts.replayBase ?? `streamproof run ${opts.scenarioFile ?? `<scenario ${opts.scenario.name}>`}`;
  return `${base} --seed ${seed}`;
}
