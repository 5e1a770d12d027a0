/**
 * `stack.external`: the run goes to a cluster of the user's own (docs/external-clusters.md) instead of a local stack.
 *
 *   "stack": { "external": { "bootstrap": "b1:9093,b2:9093",
 *     "security": { "protocol": "SASL_SSL", "mechanism": "SCRAM-SHA-512", "username": "certifier",
 *                   "password": { "env": "KAFKA_PASSWORD" }, "ca": "ca.pem" },
 *     "registry": { "url": "https://schemas.internal:8081", "username": "u", "password": { "file": "reg.pass" } } } }
 *
 * Secrets are named (an environment variable or a file), never written in a scenario. What cannot run there is
 * refused here, naming the field (exit 64): faults that need the local stack (Toxiproxy toxics and partitions,
 * broker processes, role targets, which resolve to a local broker or its proxy) and the raw-protocol "fast" load
 * client, which speaks neither TLS nor SASL.
 */
import { looksLikeRole } from '../faults/role-targets.ts';
import type { FaultSpec } from '../faults/spec.ts';
import {
  type ClusterSecurity,
  SASL_MECHANISMS,
  type SaslMechanism,
  SECURITY_PROTOCOLS,
  type SecretRef,
  type SecurityProtocol,
  usesSasl,
  usesTls,
} from '../kafka/security.ts';
import type { StackImages } from '../stack/images.ts';
import { StreamproofError } from '../util/errors.ts';
import { bool, fail, obj, str } from './validate.ts';

export type { ClusterSecurity, SecretRef } from '../kafka/security.ts';

export interface ExternalRegistry {
  url: string;
  username?: string;
  password?: SecretRef;
}

export interface ExternalCluster {
  /** "host:port,host:port". */
  bootstrap: string;
  security: ClusterSecurity;
  registry?: ExternalRegistry;
  /** Keep the run's topics after it (default: deleted; `--keep-topics`). */
  keepTopics: boolean;
}

/** An image reference: [registry/]name[:tag][@digest]. */
const IMAGE = /^[a-z0-9][a-z0-9._/:-]*(@sha256:[0-9a-f]{64})?$/;
const ADDRESS = /^[^\s,:]+:\d{1,5}$|^\[[0-9a-fA-F:.]+\]:\d{1,5}$/;

/** The block as a scenario writes it (validateExternal checks it). */
export interface ExternalClusterInput {
  bootstrap: string;
  security?: Partial<Omit<ClusterSecurity, 'protocol'>> & { protocol: SecurityProtocol };
  registry?: ExternalRegistry;
  keepTopics?: boolean;
}

/** `{ external }` for the resolved stack, or nothing. */
export function externalOf(raw: unknown, path: string): { external?: ExternalCluster } {
  const external = validateExternal(raw, path);
  return external ? { external } : {};
}

/** The validated block, or undefined when the scenario has none. */
export function validateExternal(raw: unknown, path: string): ExternalCluster | undefined {
  if (raw === undefined) return undefined;
  const o = obj(raw, path, ['bootstrap', 'security', 'registry', 'keepTopics']);
  const bootstrap = str(o.bootstrap, `${path}.bootstrap`);
  for (const a of bootstrap.split(',').map((s) => s.trim())) {
    if (!ADDRESS.test(a)) fail(`${path}.bootstrap`, 'a comma-separated list of host:port', bootstrap);
  }
  const security = validateSecurity(o.security ?? { protocol: 'PLAINTEXT' }, `${path}.security`);
  const registry = o.registry === undefined ? undefined : validateRegistry(o.registry, `${path}.registry`);
  return {
    bootstrap,
    security,
    ...(registry ? { registry } : {}),
    keepTopics: bool(o.keepTopics, `${path}.keepTopics`, false),
  };
}

export function validateSecurity(raw: unknown, path: string): ClusterSecurity {
  const o = obj(raw, path, ['protocol', 'mechanism', 'username', 'password', 'ca', 'cert', 'key']);
  const protocol = str(o.protocol, `${path}.protocol`, { oneOf: SECURITY_PROTOCOLS }) as SecurityProtocol;
  const s: ClusterSecurity = { protocol };
  if (usesSasl(s)) {
    s.mechanism = str(o.mechanism, `${path}.mechanism`, { oneOf: SASL_MECHANISMS }) as SaslMechanism;
    s.username = str(o.username, `${path}.username`);
    if (o.password === undefined) fail(`${path}.password`, '{ "env": "NAME" } or { "file": "path" }', undefined);
    s.password = secretRef(o.password, `${path}.password`);
  } else {
    for (const k of ['mechanism', 'username', 'password'] as const) {
      if (o[k] !== undefined) fail(`${path}.${k}`, `nothing with protocol "${protocol}" (no SASL)`, '(a value)');
    }
  }
  if (usesTls(s)) {
    for (const k of ['ca', 'cert', 'key'] as const) {
      const v = str(o[k], `${path}.${k}`, { optional: true });
      if (v !== undefined) s[k] = v;
    }
    if ((s.cert === undefined) !== (s.key === undefined))
      fail(`${path}.${s.cert === undefined ? 'cert' : 'key'}`, 'a PEM file path (cert and key go together)', undefined);
  } else {
    for (const k of ['ca', 'cert', 'key'] as const) {
      if (o[k] !== undefined) fail(`${path}.${k}`, `nothing with protocol "${protocol}" (no TLS)`, o[k]);
    }
  }
  return s;
}

/** `{ "env": "NAME" }` or `{ "file": "path" }`; a literal password is refused without being echoed. */
export function secretRef(raw: unknown, path: string): SecretRef {
  if (typeof raw === 'string') {
    throw new StreamproofError(
      'INVALID_SCENARIO',
      `${path}: a password is never written in a scenario; give { "env": "NAME" } or { "file": "path" }`,
      { path },
    );
  }
  const o = obj(raw, path, ['env', 'file']);
  if ((o.env === undefined) === (o.file === undefined))
    fail(path, '{ "env": "NAME" } or { "file": "path" } (one of them)', Object.keys(o));
  if (o.env !== undefined) return { env: str(o.env, `${path}.env`, { pattern: /^[A-Za-z_][A-Za-z0-9_]*$/ }) };
  return { file: str(o.file, `${path}.file`) };
}

function validateRegistry(raw: unknown, path: string): ExternalRegistry {
  const o = obj(raw, path, ['url', 'username', 'password']);
  const url = str(o.url, `${path}.url`, { pattern: /^https?:\/\/[^@\s]+$/ });
  const r: ExternalRegistry = { url: url.replace(/\/+$/, '') };
  if (o.username !== undefined) {
    r.username = str(o.username, `${path}.username`);
    if (o.password === undefined) fail(`${path}.password`, '{ "env": "NAME" } or { "file": "path" }', undefined);
  }
  if (o.password !== undefined) {
    if (r.username === undefined) fail(`${path}.username`, 'a username with a password', undefined);
    r.password = secretRef(o.password, `${path}.password`);
  }
  return r;
}

/** Why a fault cannot run on an external cluster, or undefined when it can (SUT processes, fence, rebalance). */
export function externalRefusal(f: FaultSpec): string | undefined {
  const target = String((f as { target?: unknown }).target ?? '');
  if (f.kind === 'schema-upgrade' || f.kind === 'fence' || f.kind === 'rebalance') return undefined;
  if (f.kind === 'rolling-restart') return 'a rolling-restart restarts the brokers of the local stack';
  if (f.kind === 'leader-move' || looksLikeRole(target))
    return `a ${f.kind} on role target "${target}" resolves to a broker of the local stack or its proxy`;
  if (f.kind === 'kill' || f.kind === 'pause' || f.kind === 'restart') {
    return target.startsWith('broker:') ? `a ${f.kind} of ${target} needs the local stack's broker process` : undefined;
  }
  return `a ${f.kind} fault is a Toxiproxy fault: it acts on the proxies in front of the local stack's brokers`;
}

/** Refuses (exit 64, naming the field) what an external cluster cannot run. */
export function checkExternal(
  external: ExternalCluster,
  sc: { faults: readonly FaultSpec[]; load: { client: string; format: string }; sut: { command: string } },
  path: string,
): void {
  sc.faults.forEach((f, i) => {
    const why = externalRefusal(f);
    if (why) {
      throw new StreamproofError(
        'INVALID_SCENARIO',
        `${path}.faults[${i}]: ${f.kind} cannot run on an external cluster (stack.external): ${why}. On an external cluster the faults are SUT process faults (kill, pause, restart of sut), fence and rebalance`,
        { path: `${path}.faults[${i}]` },
      );
    }
  });
  if (sc.sut.command === 'reference' && external.security.protocol !== 'PLAINTEXT') {
    throw new StreamproofError(
      'INVALID_SCENARIO',
      `${path}.sut.command: the reference pipeline speaks PLAINTEXT only and cannot run on a ${external.security.protocol} cluster (stack.external.security); run your own pipeline`,
      { path: `${path}.sut.command` },
    );
  }
  if (sc.load.format === 'avro' && !external.registry)
    fail(`${path}.stack.external.registry`, '{ "url": ... } when events.format is "avro"', undefined);
  if (sc.load.client === 'fast' && external.security.protocol !== 'PLAINTEXT') {
    throw new StreamproofError(
      'INVALID_SCENARIO',
      `${path}.load.client: "fast" speaks the raw protocol without TLS or SASL and cannot load a ${external.security.protocol} cluster (stack.external.security); use the default client`,
      { path: `${path}.load.client` },
    );
  }
}

export interface StackPlacement {
  /** Absent: local processes. */
  runtime?: 'testcontainers';
  /** Images of the testcontainers runtime (harness/stack/images.ts). */
  images?: Partial<StackImages>;
}

/** `stack.runtime` and `stack.images`: where a stack the harness starts runs. */
export function placementOf(st: Record<string, unknown>, path: string): StackPlacement {
  const runtime =
    st.runtime === undefined ? 'local' : str(st.runtime, `${path}.runtime`, { oneOf: ['local', 'testcontainers'] });
  if (runtime === 'local') {
    if (st.images !== undefined) fail(`${path}.images`, 'absent unless stack.runtime is "testcontainers"', st.images);
    return {};
  }
  if (st.external !== undefined)
    fail(
      `${path}.runtime`,
      'absent with stack.external (the harness starts no stack for an external cluster)',
      runtime,
    );
  const o = obj(st.images ?? {}, `${path}.images`, ['kafka', 'toxiproxy', 'registry']);
  const images: Partial<StackImages> = {};
  for (const k of ['kafka', 'toxiproxy', 'registry'] as const) {
    if (o[k] !== undefined) images[k] = str(o[k], `${path}.images.${k}`, { pattern: IMAGE });
  }
  return { runtime: 'testcontainers', ...(Object.keys(images).length ? { images } : {}) };
}
