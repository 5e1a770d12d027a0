/**
 * The reference's own process launcher, for `startReference` (index.ts): a child node process that dies with the
 * process that started it, even when that one is killed with SIGKILL, and whose real pid is known (so a fault signals
 * the component, not a wrapper). The same model as the harness's supervisor, kept apart so the reference pipeline
 * imports nothing of the harness: a bash lifeline reads its stdin, a pipe whose only writer is the parent; at EOF (the
 * parent gone) it SIGKILLs the command's process group.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** True when running the compiled package (dist/*.js), false when running the .ts sources. */
export const compiled = !import.meta.url.endsWith('.ts');

/** `<name>.ts` in a checkout, `<name>.js` in the package. */
export function entryPath(ts: string): string {
  return compiled ? ts.replace(/\.ts$/, '.js') : ts;
}

/** node's arguments to run the entry file `ts` (its source path): tsx's loader only when running sources. */
export function nodeArgs(ts: string): string[] {
  return compiled ? [entryPath(ts)] : ['--import', 'tsx', ts];
}

// $@ is the command. Its pid goes to fd 3; it runs in a process group of its own (setsid); the parent's pipe is kept
// on fd 4 (background jobs of a non-interactive shell get /dev/null as stdin) and watched for EOF.
const LIFELINE = `exec 4<&0
setsid "$@" 0</dev/null 3>&- 4<&- &
child=$!
echo "$child" >&3
exec 3>&-
trap 'kill -TERM -- -"$child" 2>/dev/null' TERM
trap 'kill -INT -- -"$child" 2>/dev/null' INT
( while read -r _ <&4; do :; done; kill -KILL -- -"$child" 2>/dev/null; kill -KILL "$child" 2>/dev/null ) &
exec 4<&-
watcher=$!
rc=0
while kill -0 "$child" 2>/dev/null; do
  wait "$child"
  rc=$?
done
kill -KILL "$watcher" 2>/dev/null
exit "$rc"`;

export interface Launched {
  readonly pid: number;
  /** Resolves when the process has exited, however it ended. */
  readonly exited: Promise<void>;
  running(): boolean;
  /** To the process group (the command and whatever it started). */
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs: number): Promise<void>;
  /** The last lines of its log, for error messages. */
  logTail(lines?: number): string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts `command args` under the lifeline, stdout and stderr appended to `logFile`. */
export async function launch(spec: {
  name: string;
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
}): Promise<Launched> {
  const log = openSync(spec.logFile, 'a');
  let wrapper: ChildProcess;
  try {
    wrapper = spawn('bash', ['-c', LIFELINE, 'lifeline', spec.command, ...spec.args], {
      cwd: spec.cwd,
      env: spec.env,
      stdio: ['pipe', log, log, 'pipe'],
    });
  } finally {
    closeSync(log);
  }
  const pid = await new Promise<number>((resolve, reject) => {
    let buf = '';
    (wrapper.stdio[3] as NodeJS.ReadableStream).on('data', (c: Buffer) => {
      buf += c.toString();
      const n = Number.parseInt(buf, 10);
      if (buf.includes('\n') && Number.isFinite(n)) resolve(n);
    });
    wrapper.once('error', reject);
    wrapper.once('exit', () => reject(new Error(`${spec.name}: launcher exited early`)));
  });
  let done = false;
  const exited = new Promise<void>((resolve) => {
    wrapper.once('exit', () => {
      done = true;
      resolve();
    });
  });
  const proc: Launched = {
    pid,
    exited,
    running: () => !done && alive(pid),
    signal(sig) {
      for (const target of [-pid, pid]) {
        try {
          process.kill(target, sig);
          return;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
        }
      }
    },
    async stop(graceMs) {
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
