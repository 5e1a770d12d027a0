/**
 * The reference pipeline's bench (reference-pipeline/bench.ts) run by its command, on a stack of the harness: the
 * harness and the reference never import each other, so the harness passes the stack's addresses as flags.
 *
 *   npx tsx harness/bench/reference-bench.ts [reference bench flags: --rates 500,1000 --attributors 1,2 --profile ...]
 * starts a one-broker stack (with the registry), runs the bench on it (output as the bench prints it), stops the stack.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type StartedStack, startStack } from '../stack/stack.ts';
import { nodeArgs } from '../util/entry.ts';

/** The directory holding reference-pipeline/ (the checkout, or the package's dist/). */
const root = fileURLToPath(new URL('../../', import.meta.url));

/** The bench's flags naming `stack`'s addresses. */
export function stackFlags(stack: StartedStack): string[] {
  if (!stack.registryUrl) throw new Error('the reference bench needs the schema registry: a stack started with it');
  return ['--bootstrap', stack.bootstrap, '--proxied', stack.proxiedBootstrap, '--registry', stack.registryUrl];
}

/**
 * Runs `reference-pipeline/bench.ts <args>` on `stack`; resolves with its stdout, rejects (with the end of its stderr)
 * when it exits non-zero. `inherit`: its output goes to ours instead (then it resolves with '').
 */
export function runReferenceBench(stack: StartedStack, args: string[], o: { inherit?: boolean } = {}): Promise<string> {
  const file = join(root, 'reference-pipeline', 'bench.ts');
  const child = spawn(process.execPath, [...nodeArgs(file), ...args, ...stackFlags(stack)], {
    cwd: root,
    stdio: ['ignore', o.inherit ? 'inherit' : 'pipe', o.inherit ? 'inherit' : 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    err += c.toString();
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve(out);
      else
        reject(new Error(`reference bench exited ${code ?? signal}: ${err.trim().split('\n').slice(-20).join('\n')}`));
    });
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const stack = await startStack({ brokers: 1 });
  try {
    await runReferenceBench(stack, process.argv.slice(2), { inherit: true });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    await stack.stop();
  }
}
