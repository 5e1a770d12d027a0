import { spawn } from 'node:child_process';
import { StreamproofError } from './errors.ts';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Run a command to completion, streaming its output lines to `onLine` (for progress) and keeping the tail of it for
 * error messages. Never throws on a non-zero exit: callers decide what a failure means.
 */
export function exec(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; onLine?: (line: string) => void; timeoutMs?: number } = {},
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const feed = (chunk: Buffer, which: 'out' | 'err') => {
      const s = chunk.toString();
      if (which === 'out') stdout = (stdout + s).slice(-200_000);
      else stderr = (stderr + s).slice(-200_000);
      if (opts.onLine) for (const line of s.split('\n')) if (line.trim()) opts.onLine(line);
    };
    child.stdout.on('data', (c: Buffer) => feed(c, 'out'));
    child.stderr.on('data', (c: Buffer) => feed(c, 'err'));
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          child.kill('SIGKILL');
        }, opts.timeoutMs)
      : undefined;
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (timer) clearTimeout(timer);
      if (err.code === 'ENOENT') {
        reject(
          new StreamproofError('MISSING_TOOL', `${cmd} is not installed or not on PATH; run \`streamproof doctor\``),
        );
      } else reject(err);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}

export function tail(text: string, lines = 20): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
