/**
 * The `streamproof` command. Exit codes (DESIGN.md): 0 pass, 1 invariant violated, 2 only SLOs breached,
 * 3 harness or stack failure (verdict unknown), 64 bad usage. Human text on stdout, progress on stderr;
 * --json prints one JSON document on stdout and progress as JSON lines on stderr.
 */
import type { RunHooks } from '../runner/run.ts';
import { runDaemon } from '../stack/daemon.ts';
import { describeUncaught, onUncaught } from '../util/crash.ts';
import { exitCodeFor, StreamproofError } from '../util/errors.ts';
import { benchCommand } from './bench-command.ts';
import { certifyCommand } from './certify-command.ts';
import type { Command } from './command.ts';
import { doctorCommand } from './doctor.ts';
import { exploreCommand, shrinkCommand } from './explore-command.ts';
import { exportCommand } from './export-command.ts';
import { generateCommand } from './generate-command.ts';
import { provisionCommand } from './provision-command.ts';
import { reportCommand } from './report-command.ts';
import { runCommand } from './run-command.ts';
import { stackCommand } from './stack-command.ts';
import { workerCommand } from './worker-command.ts';

export const commands: Command[] = [
  runCommand,
  certifyCommand,
  exploreCommand,
  shrinkCommand,
  reportCommand,
  stackCommand,
  provisionCommand,
  doctorCommand,
  generateCommand,
  benchCommand,
  exportCommand,
  workerCommand,
];

const usage = `usage: streamproof <command>

${commands.map((c) => `  streamproof ${c.usage}`).join('\n')}

exit codes: 0 ok, 1 invariant violated, 2 only SLOs breached, 3 harness/stack failure (verdict unknown), 64 bad usage`;

/** What a caller of the CLI can inject (tests: hooks that fail a run in a chosen phase). */
export interface CliContext {
  hooks?: RunHooks;
}

async function main(argv: string[], ctx: CliContext): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(`${usage}\n`);
    return name === undefined ? 64 : 0;
  }
  if (name === '__stack-daemon') {
    await runDaemon(JSON.parse(rest[0] ?? '{}'));
    return -1;
  }
  const cmd = commands.find((c) => c.name === name);
  if (!cmd) throw new StreamproofError('USAGE', `unknown command "${name}"\n${usage}`);
  return cmd.run(rest, ctx);
}

/**
 * Leave as soon as the output is flushed. Every command awaits its own cleanup (children stopped, faults healed,
 * clients closed) before it returns; what can still be pending are a Kafka client's idle connection timers, which
 * would otherwise hold the process for many seconds after the verdict.
 */
function finish(code: number): void {
  process.exitCode = code;
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

/**
 * Runs the command line and exits with its code. An error outside a run (a run captures its own, see
 * harness/util/crash.ts) is a harness failure: exit 3, never Node's exit 1, which means "invariant violated" here.
 */
export function cli(argv: string[], ctx: CliContext = {}): void {
  onUncaught((err, origin) => {
    process.stderr.write(`streamproof: internal error (${describeUncaught(err, origin)})\n`);
    finish(3);
  });
  main(argv, ctx).then(
    (code) => {
      if (code >= 0) finish(code);
    },
    (err) => {
      if (err instanceof StreamproofError) {
        if (argv.includes('--json')) process.stdout.write(`${JSON.stringify({ error: err.toJSON() }, null, 2)}\n`);
        process.stderr.write(`streamproof: ${err.message}\n`);
      } else {
        process.stderr.write(`streamproof: internal error: ${(err as Error)?.stack ?? err}\n`);
      }
      finish(exitCodeFor(err));
    },
  );
}
