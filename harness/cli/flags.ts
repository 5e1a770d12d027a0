/**
 * The flags several commands share, parsed and checked in one place: `--stack own|running` (and attaching to the
 * stack of `streamproof stack up`), `--out` and its default directory, `--seed`, `--json`, and the shell quoting of
 * the replay commands a failing run prints. Each check names its flag (USAGE, exit 64).
 *
 *   const { values } = parse(argv, { ...STACK_FLAG, ...SEED_FLAG, ...OUT_FLAG, ...JSON_FLAG, sut: {...} }, usage);
 *   const stackMode = stackFlag(values.stack, 'start a fresh stack for this run');
 *   const stack = stackMode === 'running' ? await attachRunningStack() : undefined;
 */
import { join } from 'node:path';
import type { StartedStack } from '../stack/stack.ts';
import { StreamproofError } from '../util/errors.ts';
import { intFlag, type Options } from './args.ts';

export const STACK_FLAG = { stack: { type: 'string' } } as const satisfies Options;
export const SEED_FLAG = { seed: { type: 'string' } } as const satisfies Options;
export const OUT_FLAG = { out: { type: 'string' } } as const satisfies Options;
export const JSON_FLAG = { json: { type: 'boolean' } } as const satisfies Options;

export type StackMode = 'own' | 'running';

/**
 * `--stack own|running` (default own). `own` says what the command does with a stack of its own, for the message
 * of a bad value.
 */
export function stackFlag(raw: unknown, own: string): StackMode {
  const mode = (raw as string | undefined) ?? 'own';
  if (mode !== 'own' && mode !== 'running') {
    throw new StreamproofError(
      'USAGE',
      `--stack: expected own (${own}) or running (attach to \`streamproof stack up\`), got "${mode}"`,
    );
  }
  return mode;
}

/** The stack `streamproof stack up` started (loaded on use: most commands never attach). */
export async function attachRunningStack(): Promise<StartedStack> {
  const { attachStack } = await import('../stack/attach.ts');
  return attachStack();
}

/**
 * The index of the first fault that kills or restarts a broker, or -1. Only a stack's owner can start a broker
 * again, so such a scenario cannot run on an attached stack (`--stack running`).
 */
export function brokerProcessFault(faults: readonly { kind: string; target?: unknown }[]): number {
  return faults.findIndex((f) => ['kill', 'restart'].includes(f.kind) && String(f.target).startsWith('broker:'));
}

/** `--seed N`: an integer from 0 to 2^53 - 1. */
export function seedFlag(raw: unknown): number | undefined {
  return intFlag('seed', raw as string | undefined, { min: 0, max: Number.MAX_SAFE_INTEGER });
}

/** A timestamp fit for a directory name: the ISO time with `:` and `.` as `-`. */
export function timestamp(date = new Date()): string {
  return date.toISOString().replace(/[:.]/g, '-');
}

/** `--out DIR`, by default `out/<name>-<timestamp>`. */
export function outDirFlag(raw: unknown, name: string): string {
  return (raw as string | undefined) ?? join('out', `${name}-${timestamp()}`);
}

/** An argument as a POSIX shell reads it back: bare when it is safe, else single-quoted. */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command that replays a run, without its seed (the runner appends `--seed N`): `streamproof run <file>` and the
 * flags that changed what ran, each value quoted for a shell.
 */
export function replayBase(
  file: string,
  flags: {
    sut?: string | undefined;
    contract?: string | undefined;
    stack?: StackMode | undefined;
    workers?: number | undefined;
  } = {},
): string {
  return [
    'streamproof run',
    shellQuote(file),
    ...(flags.sut !== undefined ? ['--sut', shellQuote(flags.sut)] : []),
    ...(flags.contract !== undefined ? ['--contract', flags.contract] : []),
    ...(flags.stack === 'running' ? ['--stack', 'running'] : []),
    ...(flags.workers !== undefined ? ['--workers', String(flags.workers)] : []),
  ].join(' ');
}
