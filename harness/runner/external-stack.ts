/**
 * A run on a cluster of the user's own (`stack.external`, docs/external-clusters.md): a StartedStack with no broker
 * processes and no Toxiproxy (`external: true`; the faults that need them are refused at validation,
 * scenario-external.ts). Connecting registers the cluster's security for its bootstrap and for every broker its
 * metadata advertises (harness/kafka/security.ts), so every client of the run speaks it; stopping deletes the run's
 * topics (named `<topic>.<runId>`) and its SUT's consumer group, unless `keepTopics`, and releases the registration.
 */
import type { Toxiproxy } from 'toxiproxy-node-client';
import { admin, clusterBootstrap } from '../kafka/clients.ts';
import {
  type ClientSecurityOptions,
  clientSecurityOptions,
  describeSecurity,
  readSecret,
  securityEnv,
  useSecurity,
} from '../kafka/security.ts';
import { useRegistryAuth } from '../registry/client.ts';
import type { StackStatus, StartedStack } from '../stack/stack.ts';
import { StreamproofError } from '../util/errors.ts';
import { type Progress, silent } from '../util/progress.ts';
import type { ExternalCluster } from './scenario-external.ts';

const sutEnvs = new WeakMap<StartedStack, Record<string, string>>();

/** The env contract's security variables for the SUT on this stack (none on a local one). */
export function sutSecurityEnv(stack: StartedStack): Record<string, string> {
  return sutEnvs.get(stack) ?? {};
}

/** Checks every secret the block names can be read (exit 64 naming the field when one cannot), reading no file twice. */
export function checkSecrets(ext: ExternalCluster, path = 'stack.external'): void {
  clientSecurityOptions(ext.security, `${path}.security`);
  if (ext.registry?.password) readSecret(ext.registry.password, `${path}.registry.password`);
}

/** Every message of an error, its causes and its grouped errors (the client nests the broker's answer), once each. */
export function errorChain(err: unknown, seen = new Set<unknown>()): string[] {
  if (err === null || err === undefined || seen.has(err)) return [];
  seen.add(err);
  const e = err as { message?: unknown; cause?: unknown; errors?: unknown; serverErrorMessage?: unknown };
  const own = typeof e.message === 'string' && e.message ? [e.message] : [String(err)];
  // A broker's own words (e.g. why it refused the credentials) ride on the protocol error.
  if (typeof e.serverErrorMessage === 'string' && e.serverErrorMessage) own.push(e.serverErrorMessage);
  const nested = [...(Array.isArray(e.errors) ? e.errors : []), e.cause].flatMap((x) => errorChain(x, seen));
  return [...new Set([...own, ...nested])];
}

export async function connectExternal(
  ext: ExternalCluster,
  o: { runId: string; progress?: Progress },
): Promise<StartedStack> {
  const progress = o.progress ?? silent;
  const how = describeSecurity(ext.security);
  progress({ phase: 'stack', message: `connecting to the external cluster ${ext.bootstrap} (${how})` });
  const options: ClientSecurityOptions = clientSecurityOptions(ext.security);
  const releases = [useSecurity(ext.bootstrap, ext.security, options)];
  const registryEnv: Record<string, string> = {};
  if (ext.registry?.username && ext.registry.password) {
    const password = readSecret(ext.registry.password, 'stack.external.registry.password');
    releases.push(useRegistryAuth(ext.registry.url, ext.registry.username, password));
    registryEnv.STREAMPROOF_SCHEMA_REGISTRY_USERNAME = ext.registry.username;
    registryEnv.STREAMPROOF_SCHEMA_REGISTRY_PASSWORD = password;
  }
  const release = () => {
    for (const r of releases.splice(0)) r();
  };
  let brokers: number[];
  try {
    const a = admin(ext.bootstrap, 'streamproof-external');
    try {
      const md = await a.metadata({ topics: [], forceUpdate: true });
      brokers = [...md.brokers.keys()];
    } finally {
      await a.close().catch(() => {});
    }
  } catch (err) {
    release();
    throw new StreamproofError(
      'STACK_START_FAILED',
      `cannot use the external cluster at ${ext.bootstrap} (${how}): ${errorChain(err).join(': ')}. Check the bootstrap, stack.external.security and the credentials`,
    );
  }
  // Raw-protocol clients connect to the broker a request needs (a group's coordinator, a partition's leader).
  releases.push(useSecurity(await clusterBootstrap(ext.bootstrap), ext.security, options));
  progress({ phase: 'stack', message: `external cluster: ${brokers.length} broker(s) answered (${how})` });

  const startedAt = new Date().toISOString();
  const status = (): StackStatus => ({
    kafka: {
      version: 'external',
      bootstrap: ext.bootstrap,
      proxiedBootstrap: ext.bootstrap,
      clusterId: '',
      brokers: [],
    },
    toxiproxy: { api: '', pid: 0, version: '' },
    registry: ext.registry ? { url: ext.registry.url, pid: 0, version: '' } : null,
    toolsClasspath: '',
    dir: '',
    startedAt,
    startSeconds: 0,
  });
  const noProxy = () =>
    new StreamproofError('USAGE', 'an external cluster has no Toxiproxy in front of it (stack.external)');
  // Faults that need Toxiproxy are refused at validation; a heal's reset has nothing to undo.
  const toxiproxy = {
    reset: async () => {},
    get: async () => {
      throw noProxy();
    },
  } as unknown as Toxiproxy;
  let stopped = false;
  const stack: StartedStack = {
    bootstrap: ext.bootstrap,
    proxiedBootstrap: ext.bootstrap,
    registryUrl: ext.registry?.url,
    toxiproxy,
    ports: { toxiproxyApi: 0, registry: 0, registryManagement: 0, brokers: [] },
    external: true,
    broker(id) {
      throw new StreamproofError('USAGE', `broker:${id}: the harness controls no broker of an external cluster`);
    },
    status,
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        if (!ext.keepTopics) await dropRunObjects(ext.bootstrap, o.runId, progress);
      } finally {
        release();
      }
    },
    [Symbol.asyncDispose]: () => stack.stop(),
  };
  sutEnvs.set(stack, { ...securityEnv(ext.security, options), ...registryEnv });
  return stack;
}

/**
 * Deletes the run's topics (`<topic>.<runId>`, and a SUT's own `sut-<runId>-*` ones) and the SUT's group
 * `sut-<runId>`; failures are reported, not thrown.
 */
async function dropRunObjects(bootstrap: string, runId: string, progress: Progress): Promise<void> {
  const a = admin(bootstrap, 'streamproof-external-cleanup');
  try {
    const ours = (t: string) => t.endsWith(`.${runId}`) || t.startsWith(`sut-${runId}-`);
    const topics = (await a.listTopics()).filter(ours);
    if (topics.length > 0) await a.deleteTopics({ topics });
    await a.deleteGroups({ groups: [`sut-${runId}`] }).catch(() => {});
    progress({
      phase: 'stack',
      message: `external cluster: deleted the run's topics (${topics.join(', ') || 'none'})`,
    });
  } catch (err) {
    progress({
      phase: 'stack',
      message: `external cluster: could not delete the run's topics (*.${runId}): ${errorChain(err).join(': ')}`,
    });
  } finally {
    await a.close().catch(() => {});
  }
}
