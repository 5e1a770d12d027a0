/**
 * `streamproof run` on a cluster of your own (docs/external-clusters.md): the flags that write or override the
 * scenario's `stack.external` block, and their part of the replay command.
 *
 *   --bootstrap-servers H:P,...  --security-protocol SASL_SSL  --sasl-mechanism SCRAM-SHA-512  --sasl-username U
 *   --sasl-password-env NAME | --sasl-password-file PATH  --ssl-ca PATH  --ssl-cert PATH  --ssl-key PATH
 *   --registry-url URL  --registry-username U  --registry-password-env NAME | --registry-password-file PATH
 *   --keep-topics
 *
 * A password is never a flag's value (only the name of the variable or file that holds it), so it can never reach
 * the shell history, a process listing or the replay command. Paths in the scenario are relative to its file; paths
 * given as flags to the working directory.
 */
import { dirname, resolve } from 'node:path';
import { StreamproofError } from '../util/errors.ts';
import type { Options } from './args.ts';
import { shellQuote } from './flags.ts';

const STRING_FLAGS = [
  'bootstrap-servers',
  'security-protocol',
  'sasl-mechanism',
  'sasl-username',
  'sasl-password-env',
  'sasl-password-file',
  'ssl-ca',
  'ssl-cert',
  'ssl-key',
  'registry-url',
  'registry-username',
  'registry-password-env',
  'registry-password-file',
] as const;

const PATH_FLAGS: readonly string[] = ['sasl-password-file', 'ssl-ca', 'ssl-cert', 'ssl-key', 'registry-password-file'];

export const EXTERNAL_FLAGS = {
  ...Object.fromEntries(STRING_FLAGS.map((f) => [f, { type: 'string' }])),
  // Parsed only to be refused with the reason (a password value on the command line).
  'sasl-password': { type: 'string' },
  'registry-password': { type: 'string' },
  'keep-topics': { type: 'boolean' },
} as Options;

export const EXTERNAL_USAGE =
  '[--bootstrap-servers H:P,... --security-protocol P --sasl-mechanism M --sasl-username U --sasl-password-env NAME|--sasl-password-file PATH --ssl-ca PATH --ssl-cert PATH --ssl-key PATH --registry-url URL --keep-topics]';

type Raw = { stack?: { external?: Record<string, unknown> } & Record<string, unknown> } & Record<string, unknown>;

/**
 * Applies the flags to the scenario as written (`raw`, changed in place) and returns their part of the replay
 * command. Relative paths of the scenario's own block are resolved against its file first.
 */
export function applyExternalFlags(raw: Raw, values: Record<string, unknown>, scenarioFile: string): string[] {
  for (const f of ['sasl-password', 'registry-password'] as const) {
    if (values[f] !== undefined) {
      throw new StreamproofError(
        'USAGE',
        `--${f}: a password is never given on the command line; use --${f}-env NAME (an environment variable) or --${f}-file PATH`,
      );
    }
  }
  const given = STRING_FLAGS.filter((f) => values[f] !== undefined);
  const keep = values['keep-topics'] === true;
  const stack = (raw.stack ?? {}) as NonNullable<Raw['stack']>;
  const own = stack.external;
  if (own && typeof own === 'object') resolvePaths(own, dirname(resolve(scenarioFile)));
  if (given.length === 0 && !keep) return [];
  if (!own && values['bootstrap-servers'] === undefined) {
    throw new StreamproofError(
      'USAGE',
      `--${given[0] ?? 'keep-topics'}: only with an external cluster (--bootstrap-servers, or stack.external in the scenario)`,
    );
  }
  const v = (f: (typeof STRING_FLAGS)[number]) => values[f] as string | undefined;
  const path = (f: (typeof STRING_FLAGS)[number]) => (v(f) === undefined ? undefined : resolve(v(f)!));
  const secret = (env: string | undefined, file: string | undefined, flag: string) => {
    if (env !== undefined && file !== undefined)
      throw new StreamproofError('USAGE', `--${flag}-env and --${flag}-file: give one of them`);
    return env !== undefined ? { env } : file !== undefined ? { file: resolve(file) } : undefined;
  };
  const ext: Record<string, unknown> = { ...(own ?? {}) };
  if (v('bootstrap-servers') !== undefined) ext.bootstrap = v('bootstrap-servers');
  const security: Record<string, unknown> = { ...((ext.security as Record<string, unknown> | undefined) ?? {}) };
  const set = (key: string, value: unknown) => {
    if (value !== undefined) security[key] = value;
  };
  set('protocol', v('security-protocol'));
  set('mechanism', v('sasl-mechanism'));
  set('username', v('sasl-username'));
  set('password', secret(v('sasl-password-env'), v('sasl-password-file'), 'sasl-password'));
  set('ca', path('ssl-ca'));
  set('cert', path('ssl-cert'));
  set('key', path('ssl-key'));
  if (Object.keys(security).length > 0) ext.security = { protocol: 'PLAINTEXT', ...security };
  const registry: Record<string, unknown> = { ...((ext.registry as Record<string, unknown> | undefined) ?? {}) };
  if (v('registry-url') !== undefined) registry.url = v('registry-url');
  if (v('registry-username') !== undefined) registry.username = v('registry-username');
  const regSecret = secret(v('registry-password-env'), v('registry-password-file'), 'registry-password');
  if (regSecret) registry.password = regSecret;
  if (Object.keys(registry).length > 0) ext.registry = registry;
  if (keep) ext.keepTopics = true;
  raw.stack = { ...stack, external: ext };
  // The replay names what the flags named: variables and files, never a secret's value.
  return [
    ...given.flatMap((f) => [`--${f}`, shellQuote(PATH_FLAGS.includes(f) ? path(f)! : v(f)!)]),
    ...(keep ? ['--keep-topics'] : []),
  ];
}

function resolvePaths(ext: Record<string, unknown>, dir: string): void {
  const sec = ext.security as Record<string, unknown> | undefined;
  const abs = (p: unknown) => (typeof p === 'string' && p.length > 0 ? resolve(dir, p) : p);
  if (sec && typeof sec === 'object') {
    for (const k of ['ca', 'cert', 'key']) if (sec[k] !== undefined) sec[k] = abs(sec[k]);
    const pw = sec.password as Record<string, unknown> | undefined;
    if (pw && typeof pw === 'object' && pw.file !== undefined) pw.file = abs(pw.file);
  }
  const reg = ext.registry as Record<string, unknown> | undefined;
  const rpw = reg?.password as Record<string, unknown> | undefined;
  if (rpw && typeof rpw === 'object' && rpw.file !== undefined) rpw.file = abs(rpw.file);
}
