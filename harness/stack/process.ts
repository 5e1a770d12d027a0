/**
 * Child processes of the harness (brokers, toxiproxy, registry, SUT instances), started under lifeline.sh so they die
 * with the harness even when it is killed with SIGKILL. `pid` is the real process (not the wrapper), so faults signal
 * it directly: SIGKILL for a crash, SIGSTOP/SIGCONT for a pause.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { StreamproofError } from '../util/errors.ts';

const lifeline = new URL('./lifeline.sh', import.meta.url).pathname;

/** A process a fault can crash, freeze and bring back: a broker, a SUT instance. */
export interface ProcessControl {
  running(): boolean;
  /** SIGKILL; resolves once it is gone. */
  kill(): Promise<void>;
  /** SIGSTOP (a GC pause, a frozen VM); a container is frozen instead. */
  pause(): void | Promise<void>;
  /** SIGCONT. */
  resume(): void | Promise<void>;
  /** Start it again (no-op when running); resolves when it serves again. */
  start(): Promise<void>;
  /** Clean stop (SIGTERM); resolves once it is gone. */
  stop(): Promise<void>;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves when the process has exited, however it ended. */
  readonly exited: Promise<ExitInfo>;
  running(): boolean;
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<ExitInfo>;
  /** The last lines of its log, for error messages. */
  logTail(lines?: number): string;
}

export interface LaunchSpec {
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  logFile: string;
}

export async function launch(spec: LaunchSpec): Promise<ManagedProcess> {
  const log = openSync(spec.logFile, 'a');
  let wrapper: ChildProcess;
  try {
    wrapper = spawn('bash', [lifeline, spec.command, ...spec.args], {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      stdio: ['pipe', log, log, 'pipe'],
    });
  } finally {
    closeSync(log);
  }
  const fd3 = wrapper.stdio[3] as NodeJS.ReadableStream;
  const pid = await new Promise<number>((resolve, reject) => {
    let buf = '';
    fd3.on('data', (c: Buffer) => {
      buf += c.toString();
      const n = Number.parseInt(buf, 10);
      if (buf.includes('\n') && Number.isFinite(n)) resolve(n);
    });
    wrapper.once('error', reject);
    wrapper.once('exit', () =>
      reject(new StreamproofError('STACK_START_FAILED', `${spec.name}: launcher exited early`)),
    );
  });
  // The pipes stay open (and referenced) for the child's lifetime: the stdin pipe is its lifeline. A harness that
  // started children keeps running until it stops them, which `await using` makes hard to forget.
  let done = false;
  const exited = new Promise<ExitInfo>((resolve) => {
    wrapper.once('exit', (code, signal) => {
      done = true;
      // The wrapper reports the child's status as 128+signal for a signalled child.
      const sig = code !== null && code > 128 ? (signalName(code - 128) ?? null) : signal;
      resolve({ code: sig ? null : code, signal: sig });
    });
  });
  const proc: ManagedProcess = {
    name: spec.name,
    pid,
    logFile: spec.logFile,
    exited,
    running: () => !done && alive(pid),
    signal(sig) {
      // The whole process group: lifeline started the command as a group leader (setsid).
      for (const target of [-pid, pid]) {
        try {
          process.kill(target, sig);
          return;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
        }
      }
    },
    async stop(graceMs = 10_000) {
      if (done) return exited;
      proc.signal('SIGCONT'); // a paused process cannot handle SIGTERM
      proc.signal('SIGTERM');
      const timeout = sleep(graceMs).then(() => 'timeout' as const);
      if ((await Promise.race([exited, timeout])) === 'timeout') proc.signal('SIGKILL');
      return exited;
    },
    logTail(lines = 30) {
      try {
        return readFileSync(spec.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
      } catch {
        return '(no log)';
      }
    },
  };
  return proc;
}

const signals: Record<number, NodeJS.Signals> = { 1: 'SIGHUP', 2: 'SIGINT', 9: 'SIGKILL', 15: 'SIGTERM', 6: 'SIGABRT' };
function signalName(n: number): NodeJS.Signals | undefined {
  return signals[n];
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
