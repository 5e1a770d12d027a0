/**
 * How the harness's clients reach a secured cluster (SASL and/or TLS): an external cluster of the user's own
 * (docs/external-clusters.md). The local stack speaks PLAINTEXT and registers nothing.
 *
 * The settings are registered per broker address (`useSecurity`), and every client the harness opens asks for the
 * options of the addresses it is given (`securityFor`): the clients hub (clients.ts), the observer, the load, the
 * raw-protocol modules (raw.ts, groups.ts, roles.ts and those built on them) all take a bootstrap address and
 * nothing else, so the address is what says which cluster, and how, they talk to. The runner registers the cluster's
 * bootstrap and every broker its metadata advertises, and releases them when the run ends.
 *
 * Secrets: a password is named, never written: `{ env: NAME }` or `{ file: path }` (read when the run starts), and
 * the key is a file path. Only `describeSecurity` goes into results and logs (protocol, mechanism, username).
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { StreamproofError } from '../util/errors.ts';

export const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const;
export type SecurityProtocol = (typeof SECURITY_PROTOCOLS)[number];
export const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

/** Where a secret is read from: an environment variable or a file (its content, a trailing newline dropped). */
export type SecretRef = { env: string } | { file: string };

/** A cluster's security as a scenario writes it: names and paths, never a secret's value. */
export interface ClusterSecurity {
  protocol: SecurityProtocol;
  /** SASL_*: the mechanism, the username and where the password is. */
  mechanism?: SaslMechanism;
  username?: string;
  password?: SecretRef;
  /** SSL, SASL_SSL: the CA bundle (PEM) to trust (default: the system's); a client certificate and key (mTLS). */
  ca?: string;
  cert?: string;
  key?: string;
}

/** The options @platformatic/kafka's clients and connections take for it. */
export interface ClientSecurityOptions {
  tls?: ConnectionOptions;
  sasl?: { mechanism: SaslMechanism; username: string; password: string };
}

/** The secret's value; a missing variable or unreadable file is bad input (exit 64), named but never echoed. */
export function readSecret(ref: SecretRef, path: string, env: NodeJS.ProcessEnv = process.env): string {
  if ('env' in ref) {
    const v = env[ref.env];
    if (v === undefined || v === '')
      throw new StreamproofError('USAGE', `${path}: the environment variable ${ref.env} is not set (or empty)`);
    return v;
  }
  try {
    return readFileSync(ref.file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new StreamproofError(
      'USAGE',
      `${path}: cannot read the password file ${ref.file}: ${(err as Error).message}`,
    );
  }
}

function readPem(file: string, path: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new StreamproofError('USAGE', `${path}: cannot read ${file}: ${(err as Error).message}`);
  }
}

export const usesTls = (s: ClusterSecurity | undefined): boolean => s?.protocol === 'SSL' || s?.protocol === 'SASL_SSL';
export const usesSasl = (s: ClusterSecurity | undefined): boolean =>
  s?.protocol === 'SASL_PLAINTEXT' || s?.protocol === 'SASL_SSL';

/** Reads the files and the password once: the options every client of the run is given. */
export function clientSecurityOptions(
  s: ClusterSecurity,
  path = 'stack.external.security',
  env: NodeJS.ProcessEnv = process.env,
): ClientSecurityOptions {
  const out: ClientSecurityOptions = {};
  if (usesTls(s)) {
    out.tls = {
      ...(s.ca ? { ca: readPem(s.ca, `${path}.ca`) } : {}),
      ...(s.cert ? { cert: readPem(s.cert, `${path}.cert`) } : {}),
      ...(s.key ? { key: readPem(s.key, `${path}.key`) } : {}),
    };
  }
  if (usesSasl(s)) {
    out.sasl = {
      mechanism: s.mechanism ?? 'PLAIN',
      username: s.username ?? '',
      password: s.password ? readSecret(s.password, `${path}.password`, env) : '',
    };
  }
  return out;
}

/** What may be shown of it: protocol, mechanism and username, never the password or a key. */
export function describeSecurity(s: ClusterSecurity | undefined): string {
  if (!s) return 'PLAINTEXT';
  const sasl = usesSasl(s) ? ` ${s.mechanism ?? 'PLAIN'} as ${s.username ?? '(no username)'}` : '';
  const mtls = usesTls(s) && s.cert ? ' with a client certificate' : '';
  return `${s.protocol}${sasl}${mtls}`;
}

/**
 * The env contract's security variables, in librdkafka's vocabulary (security.protocol, sasl.mechanism,
 * sasl.username, sasl.password, ssl.ca.location, ssl.certificate.location, ssl.key.location); none for PLAINTEXT.
 * The password's value is in it: it goes to the SUT's environment only.
 */
export function securityEnv(s: ClusterSecurity | undefined, opts: ClientSecurityOptions): Record<string, string> {
  if (!s || s.protocol === 'PLAINTEXT') return {};
  return {
    STREAMPROOF_SECURITY_PROTOCOL: s.protocol,
    ...(opts.sasl
      ? {
          STREAMPROOF_SASL_MECHANISM: opts.sasl.mechanism,
          STREAMPROOF_SASL_USERNAME: opts.sasl.username,
          STREAMPROOF_SASL_PASSWORD: opts.sasl.password,
        }
      : {}),
    ...(usesTls(s) && s.ca ? { STREAMPROOF_SSL_CA_LOCATION: s.ca } : {}),
    ...(usesTls(s) && s.cert ? { STREAMPROOF_SSL_CERT_LOCATION: s.cert } : {}),
    ...(usesTls(s) && s.key ? { STREAMPROOF_SSL_KEY_LOCATION: s.key } : {}),
  };
}

/** The same, read back from an environment (a load worker process gets its cluster's security this way). */
export function securityFromEnv(env: NodeJS.ProcessEnv): { security: ClusterSecurity; options: ClientSecurityOptions } {
  const protocol = env.STREAMPROOF_SECURITY_PROTOCOL as SecurityProtocol | undefined;
  if (!protocol || !(SECURITY_PROTOCOLS as readonly string[]).includes(protocol)) {
    return { security: { protocol: 'PLAINTEXT' }, options: {} };
  }
  const security: ClusterSecurity = {
    protocol,
    ...(env.STREAMPROOF_SASL_MECHANISM ? { mechanism: env.STREAMPROOF_SASL_MECHANISM as SaslMechanism } : {}),
    ...(env.STREAMPROOF_SASL_USERNAME ? { username: env.STREAMPROOF_SASL_USERNAME } : {}),
    ...(env.STREAMPROOF_SASL_PASSWORD ? { password: { env: 'STREAMPROOF_SASL_PASSWORD' } } : {}),
    ...(env.STREAMPROOF_SSL_CA_LOCATION ? { ca: env.STREAMPROOF_SSL_CA_LOCATION } : {}),
    ...(env.STREAMPROOF_SSL_CERT_LOCATION ? { cert: env.STREAMPROOF_SSL_CERT_LOCATION } : {}),
    ...(env.STREAMPROOF_SSL_KEY_LOCATION ? { key: env.STREAMPROOF_SSL_KEY_LOCATION } : {}),
  };
  return { security, options: clientSecurityOptions(security, 'STREAMPROOF_SECURITY_PROTOCOL', env) };
}

interface Registered {
  security: ClusterSecurity;
  options: ClientSecurityOptions;
}
const registered = new Map<string, Registered>();

function addresses(bootstrap: string | readonly string[]): string[] {
  const list = typeof bootstrap === 'string' ? bootstrap.split(',') : [...bootstrap];
  return list.map((s) => s.trim()).filter((s) => s.length > 0);
}

/**
 * Registers the security (and its options, `clientSecurityOptions(security)`) for every address given; returns the
 * release (the addresses speak PLAINTEXT again).
 */
export function useSecurity(
  bootstrap: string | readonly string[],
  security: ClusterSecurity,
  options: ClientSecurityOptions,
): () => void {
  const list = addresses(bootstrap);
  const entry = { security, options };
  for (const a of list) registered.set(a, entry);
  return () => {
    for (const a of list) if (registered.get(a) === entry) registered.delete(a);
  };
}

function lookup(bootstrap: string | readonly string[]): Registered | undefined {
  if (registered.size === 0) return undefined;
  for (const a of addresses(bootstrap)) {
    const r = registered.get(a);
    if (r) return r;
  }
  return undefined;
}

/** The env contract's security variables for these addresses (a child process's environment); none for PLAINTEXT. */
export function securityEnvFor(bootstrap: string | readonly string[]): Record<string, string> {
  const r = lookup(bootstrap);
  return r ? securityEnv(r.security, r.options) : {};
}

/** The security options for a client given these addresses: those of the first registered one, or none. */
export function securityFor(bootstrap: string | readonly string[]): ClientSecurityOptions {
  return lookup(bootstrap)?.options ?? {};
}
