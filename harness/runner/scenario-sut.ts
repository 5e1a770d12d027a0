/**
 * The `sut` block of a scenario: the command, its contract (how its outputs relate to its inputs), instances, env,
 * readiness and when it starts. Errors name the path; exit 64.
 */
import { type DlqSpec, validateDlq } from '../contracts/dlq.ts';
import { type LineageSpec, validateLineage } from '../contracts/lineage-spec.ts';
import { parseDuration } from '../util/duration.ts';
import { StreamproofError } from '../util/errors.ts';
import type { ReadyStrategy } from './ready.ts';
import { fail, int, obj, str } from './validate.ts';

/** `copy`, `lineage`, `attribution`, or `{ "model": "<module>" }` (name `model`). */
export const CONTRACTS = ['copy', 'lineage', 'model', 'attribution'] as const;
export type ContractName = (typeof CONTRACTS)[number];

/** The reference SUT's components a process fault can target besides its attributors: `sut:collector`, `sut:lake`. */
export const REFERENCE_COMPONENTS = ['collector', 'lake'] as const;
export type ReferenceComponent = (typeof REFERENCE_COMPONENTS)[number];

/** The components `sut:<name>` of a SUT started by `command`: the reference's, none for any other command. */
export function sutComponents(command: string): readonly string[] {
  return command === 'reference' ? REFERENCE_COMPONENTS : [];
}

export interface SutSpec {
  command: string;
  contract: ContractName;
  /** For `{ "model": path }`: the module path as written (resolved against the scenario file's directory). */
  model: string | undefined;
  /** For `lineage`: where outputs name their source, and how many each input must produce. */
  lineage: LineageSpec | undefined;
  /** Where the pipeline dead-letters what it refuses (judged by the accounting checker). */
  dlq: DlqSpec | undefined;
  instances: number;
  env: Record<string, string>;
  cwd: string | undefined;
  ready: ReadyStrategy;
  readyTimeoutMs: number;
  start: 'before-load' | 'after-load';
}

function validateContract(v: unknown, path: string): { contract: ContractName; model: string | undefined } {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const o = obj(v, path, ['model']);
    return { contract: 'model', model: str(o.model, `${path}.model`) };
  }
  if (v !== 'copy' && v !== 'lineage' && v !== 'attribution')
    fail(path, 'one of "copy", "lineage", "attribution" or { "model": "<module path>" }', v);
  return { contract: v, model: undefined };
}

export function validateSut(raw: unknown, path: string): SutSpec {
  const s = obj(raw, path, [
    'command',
    'contract',
    'lineage',
    'dlq',
    'instances',
    'env',
    'cwd',
    'ready',
    'readyTimeout',
    'start',
  ]);
  const env: Record<string, string> = {};
  if (s.env !== undefined) {
    const e = obj(s.env, `${path}.env`, Object.keys(s.env as object));
    for (const [k, v] of Object.entries(e)) env[k] = str(v, `${path}.env.${k}`);
  }
  const contract = validateContract(s.contract, `${path}.contract`);
  if (contract.contract === 'lineage' && s.lineage === undefined)
    fail(`${path}.lineage`, 'a lineage block when contract is "lineage" ({ "id": "field:event_id" })', undefined);
  if (contract.contract !== 'lineage' && s.lineage !== undefined)
    fail(`${path}.lineage`, 'nothing unless contract is "lineage"', s.lineage);
  return {
    command: str(s.command, `${path}.command`),
    ...contract,
    lineage: s.lineage === undefined ? undefined : validateLineage(s.lineage, `${path}.lineage`),
    dlq: s.dlq === undefined ? undefined : validateDlq(s.dlq, `${path}.dlq`),
    instances: int(s.instances, `${path}.instances`, { min: 1, max: 16, def: 1 }),
    env,
    cwd: s.cwd === undefined ? undefined : str(s.cwd, `${path}.cwd`),
    ready: validateReady(s.ready, `${path}.ready`),
    readyTimeoutMs: s.readyTimeout === undefined ? 60_000 : parseDuration(s.readyTimeout, `${path}.readyTimeout`),
    start: (s.start === undefined
      ? 'before-load'
      : str(s.start, `${path}.start`, { oneOf: ['before-load', 'after-load'] })) as 'before-load' | 'after-load',
  };
}

const LOCAL_HOSTS = ['127.0.0.1', 'localhost', '[::1]', '::1'];

/**
 * sut.ready: "group" (default) or "none", or exactly one of { log: regex }, { http: URL on 127.0.0.1 or localhost },
 * { tcp: port | "host:port" on 127.0.0.1 or localhost }.
 */
export function validateReady(v: unknown, path: string): ReadyStrategy {
  if (v === undefined) return 'group';
  const expected = '"group", "none", { "log": "<regex>" }, { "http": "<url>" } or { "tcp": <port> }';
  if (typeof v === 'string') return str(v, path, { oneOf: ['group', 'none'] }) as 'group' | 'none';
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, expected, v);
  const o = obj(v, path, ['log', 'http', 'tcp']);
  if (Object.keys(o).length !== 1) fail(path, `one of ${expected}`, v);
  if (o.log !== undefined) {
    const source = str(o.log, `${path}.log`);
    try {
      new RegExp(source);
    } catch (err) {
      throw new StreamproofError(
        'INVALID_SCENARIO',
        `${path}.log: not a valid regular expression (${(err as Error).message})`,
        { path: `${path}.log` },
      );
    }
    return { log: source };
  }
  if (o.http !== undefined) {
    const url = str(o.http, `${path}.http`);
    let u: URL | undefined;
    try {
      u = new URL(url);
    } catch {
      u = undefined;
    }
    if (u?.protocol !== 'http:' || !LOCAL_HOSTS.includes(u.hostname))
      fail(`${path}.http`, 'an http:// URL on 127.0.0.1 or localhost', url);
    return { http: url };
  }
  const tcp = o.tcp;
  if (typeof tcp === 'number') return { tcp: int(tcp, `${path}.tcp`, { min: 1, max: 65535 }) };
  const m = typeof tcp === 'string' ? /^(\[::1\]|[^:]+):(\d+)$/.exec(tcp) : null;
  if (!m || !LOCAL_HOSTS.includes(m[1]!) || Number(m[2]) < 1 || Number(m[2]) > 65535)
    fail(`${path}.tcp`, 'a port (1-65535) or "host:port" on 127.0.0.1 or localhost', tcp);
  return { tcp: tcp as string };
}
