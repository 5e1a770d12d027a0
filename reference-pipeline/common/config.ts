/**
 * The SUT env contract (../../../shared/DESIGN.md, "SUT contract") plus the reference pipeline's own variables, read
 * once per process. A bad value stops the process at start with a message naming the variable, never mid-stream.
 */

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export interface CommonConfig {
  bootstrap: string[];
  inputTopic: string;
  outputTopic: string;
  dlqTopic: string;
  groupId: string;
  transactionalId: string;
  registryUrl: string | undefined;
  lakeDir: string | undefined;
  instance: string;
  /** Partitions of the topics a component creates when they are missing. */
  partitions: number;
  /** Replication factor of created topics; default min(3, brokers in the cluster). */
  replicationFactor: number | undefined;
  metricsPort: number;
}

type Env = Record<string, string | undefined>;

export function str(env: Env, name: string, fallback?: string): string {
  const v = env[name];
  if (v !== undefined && v !== '') return v;
  if (fallback !== undefined) return fallback;
  throw new ConfigError(`${name}: required, not set`);
}

export function int(env: Env, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name}: expected an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  }
  return n;
}

export function oneOf<T extends string>(env: Env, name: string, fallback: T, allowed: readonly T[]): T {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  if (!(allowed as readonly string[]).includes(v)) {
    throw new ConfigError(`${name}: expected one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  }
  return v as T;
}

export function readCommonConfig(env: Env = process.env): CommonConfig {
  const inputTopic = str(env, 'STREAMPROOF_INPUT_TOPIC', 'events');
  const rf = env.STREAMPROOF_REPLICATION_FACTOR;
  return {
    bootstrap: str(env, 'STREAMPROOF_BOOTSTRAP_SERVERS')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
    inputTopic,
    outputTopic: str(env, 'STREAMPROOF_OUTPUT_TOPIC', 'attributions'),
    dlqTopic: str(env, 'STREAMPROOF_DLQ_TOPIC', `${inputTopic}.dlq`),
    groupId: str(env, 'STREAMPROOF_GROUP_ID', 'streamproof-reference'),
    transactionalId: str(env, 'STREAMPROOF_TRANSACTIONAL_ID', 'streamproof-reference'),
    registryUrl: env.STREAMPROOF_SCHEMA_REGISTRY_URL || undefined,
    lakeDir: env.STREAMPROOF_LAKE_DIR || undefined,
    instance: str(env, 'STREAMPROOF_INSTANCE', '0'),
    partitions: int(env, 'STREAMPROOF_PARTITIONS', 4, 1, 10_000),
    replicationFactor: rf ? int(env, 'STREAMPROOF_REPLICATION_FACTOR', 1, 1, 16) : undefined,
    metricsPort: int(env, 'STREAMPROOF_METRICS_PORT', 0, 0, 65_535),
  };
}
