/**
 * `streamproof stack up` runs the stack in this detached supervisor so the CLI can return. The supervisor owns every
 * child (under lifeline: if it is killed, they die too), writes the state file that `status` and `down` read, and
 * stops everything on SIGTERM/SIGINT. It talks to the `up` command over IPC until ready, then is on its own.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StreamproofError } from '../util/errors.ts';
import { stateRoot } from '../util/paths.ts';
import { alive } from './process.ts';
import { type StackOptions, type StackStatus, startStack } from './stack.ts';

export interface StackState {
  supervisorPid: number;
  status: StackStatus;
}

export function stackDir(): string {
  return join(stateRoot(), 'stack');
}

export function stateFile(): string {
  return join(stateRoot(), 'stack.json');
}

/** The running CLI stack, or undefined (a state file whose supervisor died is stale and removed). */
export function readState(): StackState | undefined {
  if (!existsSync(stateFile())) return undefined;
  let state: StackState;
  try {
    state = JSON.parse(readFileSync(stateFile(), 'utf8')) as StackState;
  } catch {
    return undefined;
  }
  if (!alive(state.supervisorPid)) {
    rmSync(stateFile(), { force: true });
    return undefined;
  }
  return state;
}

export type DaemonMessage =
  | { type: 'progress'; phase: string; message: string; fraction?: number }
  | { type: 'ready'; state: StackState }
  | { type: 'error'; error: { code: string; message: string } };

export async function runDaemon(options: StackOptions): Promise<void> {
  const send = (m: DaemonMessage) => {
    if (process.connected) process.send?.(m);
  };
  rmSync(stackDir(), { recursive: true, force: true });
  let stack: Awaited<ReturnType<typeof startStack>> | undefined;
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    try {
      await stack?.stop();
    } finally {
      rmSync(stateFile(), { force: true });
      process.exit(code);
    }
  };
  process.on('SIGTERM', () => void shutdown(0));
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGHUP', () => {}); // the terminal that ran `stack up` may close
  try {
    stack = await startStack({
      ...options,
      dir: stackDir(),
      keepDir: false,
      progress: (e) => send({ type: 'progress', ...e }),
    });
  } catch (err) {
    const e =
      err instanceof StreamproofError
        ? err.toJSON()
        : { code: 'INTERNAL', message: String((err as Error)?.stack ?? err) };
    send({ type: 'error', error: e });
    process.exitCode = 3;
    process.disconnect?.();
    return;
  }
  if (stopping) return;
  const state: StackState = { supervisorPid: process.pid, status: stack.status() };
  writeFileSync(stateFile(), `${JSON.stringify(state, null, 2)}\n`);
  send({ type: 'ready', state });
  process.disconnect?.();
  // Keep the supervisor alive; refresh the state file when a child dies so `status` tells the truth.
  setInterval(() => {
    if (!stopping && stack)
      writeFileSync(
        stateFile(),
        `${JSON.stringify({ supervisorPid: process.pid, status: stack.status() }, null, 2)}\n`,
      );
  }, 2000);
}
