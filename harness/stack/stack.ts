/**
 * The stack: N KRaft brokers, one Toxiproxy proxy per broker, a schema registry, all local processes.
 *
 *   const stack = await startStack({ brokers: 3 })   // or: await using stack = ...
 *   stack.proxiedBootstrap   -> give this to the system under test (every connection goes through Toxiproxy)
 *   stack.bootstrap          -> the harness's own direct path
 *   stack.broker(2).kill()   -> process faults
 *
 * Ready means: every broker is in the cluster metadata, a probe record round-trips through the proxied bootstrap
 * with acks=all, a probe transaction commits (so the transaction log exists before any pipeline needs it), and the
 * registry answers.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Toxiproxy } from 'toxiproxy-node-client';
import { brokerIds } from '../kafka/clients.ts';
import { StreamproofError } from '../util/errors.ts';
import { stateRoot } from '../util/paths.ts';
import { type Progress, silent } from '../util/progress.ts';
import type { StackImages } from './images.ts';
import { findJava } from './java.ts';
import { type BrokerConfig, formatBroker, startBroker } from './kafka.ts';
import { allocatePorts, type StackPorts } from './ports.ts';
import type { ManagedProcess, ProcessControl } from './process.ts';
import { provisionKafka, provisionRegistry, provisionToxiproxy } from './provision.ts';
import { waitClusterReady } from './ready.ts';
import { type StartedRegistry, startRegistry } from './registry.ts';
import { proxyName, type StartedToxiproxy, startToxiproxy } from './toxiproxy.ts';
import { versions } from './versions.ts';
import { waitFor } from './wait.ts';

export interface StackOptions {
  brokers?: 1 | 3;
  /**
   * `local` (default): every part a local process of this machine. `testcontainers`: the same stack as containers
   * (harness/stack/containers.ts), which needs a Docker engine and the `testcontainers` package instead of Java.
   */
  runtime?: StackRuntime;
  /** Images of the testcontainers runtime (default: the projects' own, pinned; harness/stack/images.ts). */
  images?: Partial<StackImages>;
  /** Fixed port layout (see ports.ts); default: free ports chosen by the OS. */
  portBase?: number;
  /** Where logs and data go; default a fresh dir under the state root, deleted on stop. */
  dir?: string;
  /** Keep `dir` after stop (logs for a post-mortem). Default: keep only when `dir` was given. */
  keepDir?: boolean;
  /** Start the schema registry (default true). */
  registry?: boolean;
  /** Extra server.properties for every broker. */
  brokerConfig?: Record<string, string | number | boolean>;
  /** Broker JVM heap, e.g. "1g" (default: 256m initial, 1g max). */
  brokerHeap?: string;
  progress?: Progress;
  startTimeoutMs?: number;
}

export type StackRuntime = 'local' | 'testcontainers';

export interface BrokerStatus {
  id: number;
  /** Its container, on the testcontainers runtime. */
  container?: string;
  direct: string;
  proxied: string;
  proxy: string;
  pid: number;
  running: boolean;
  log: string;
}

export interface StackStatus {
  kafka: { version: string; bootstrap: string; proxiedBootstrap: string; clusterId: string; brokers: BrokerStatus[] };
  toxiproxy: { api: string; pid: number; version: string; container?: string };
  registry: { url: string; pid: number; version: string; container?: string } | null;
  /** Absent: local. */
  runtime?: StackRuntime;
  images?: StackImages;
  toolsClasspath: string;
  dir: string;
  startedAt: string;
  /** Seconds from the call to ready. */
  startSeconds: number;
}

/** `start()` brings it back on the same ports and data and resolves once it is back in the cluster metadata. */
export interface BrokerHandle extends ProcessControl {
  readonly id: number;
  readonly pid: number;
  /** stop() then start(). */
  restart(): Promise<void>;
}

export interface StartedStack extends AsyncDisposable {
  readonly bootstrap: string;
  readonly proxiedBootstrap: string;
  readonly registryUrl: string | undefined;
  readonly toxiproxy: Toxiproxy;
  readonly ports: StackPorts;
  /**
   * A cluster the harness does not run (harness/runner/external-stack.ts): no broker processes, no Toxiproxy. The
   * faults that need them are refused when the scenario is validated.
   */
  readonly external?: true;
  /** Absent: local processes. */
  readonly runtime?: StackRuntime;
  broker(id: number): BrokerHandle;
  /**
   * What of the stack died by itself (not by a fault), or undefined; where absent, `status()`'s pids and running
   * flags tell (local processes).
   */
  deadParts?(): Promise<string | undefined>;
  status(): StackStatus;
  stop(): Promise<void>;
}

export async function startStack(options: StackOptions = {}): Promise<StartedStack> {
  if (options.runtime === 'testcontainers') {
    const { startContainerStack } = await import('./containers.ts');
    return startContainerStack(options);
  }
  if (options.runtime !== undefined && options.runtime !== 'local') {
    throw new StreamproofError(
      'USAGE',
      `runtime: expected "local" or "testcontainers", got ${String(options.runtime)}`,
    );
  }
  const started = Date.now();
  const n = options.brokers ?? 1;
  if (n !== 1 && n !== 3) throw new StreamproofError('USAGE', `brokers: expected 1 or 3, got ${n}`);
  const progress = options.progress ?? silent;
  const timeoutMs = options.startTimeoutMs ?? 120_000;
  const wantRegistry = options.registry ?? true;

  const java = await findJava(versions.minJava);
  if (!java) {
    throw new StreamproofError(
      'MISSING_TOOL',
      `Kafka ${versions.kafka} needs Java >= ${versions.minJava}; none found. Install it (apt-get install openjdk-17-jre-headless) or set STREAMPROOF_JAVA_HOME; \`streamproof doctor\` checks.`,
    );
  }
  const ports = await allocatePorts(n, options.portBase);
  const [kafkaInstall, toxiInstall, registryInstall] = await Promise.all([
    provisionKafka(progress),
    provisionToxiproxy(progress),
    wantRegistry ? provisionRegistry(progress) : Promise.resolve(undefined),
  ]);

  mkdirSync(stateRoot(), { recursive: true });
  const dir = options.dir ?? mkdtempSync(join(stateRoot(), 'stack-'));
  mkdirSync(dir, { recursive: true });
  const keepDir = options.keepDir ?? options.dir !== undefined;
  const clusterId = newClusterId();
  const voters = ports.brokers.map((p, i) => ({ id: i + 1, controller: p.controller }));
  const configs: BrokerConfig[] = ports.brokers.map((p, i) => ({
    id: i + 1,
    ports: p,
    voters,
    dir: join(dir, `broker-${i + 1}`),
    clusterId,
    classpath: kafkaInstall.classpath,
    java: java.bin,
    overrides: options.brokerConfig,
    heap: options.brokerHeap,
  }));

  const procs = new Map<number, ManagedProcess>();
  let toxi: StartedToxiproxy | undefined;
  let registry: StartedRegistry | undefined;
  let registryStart: Promise<StartedRegistry> | undefined;
  const stopAll = async () => {
    await Promise.allSettled([...procs.values()].map((p) => p.stop(8_000)));
    const reg = registry ?? (await registryStart?.catch(() => undefined));
    await Promise.allSettled([reg?.process.stop(5_000), toxi?.process.stop(3_000)]);
    if (!keepDir) rmSync(dir, { recursive: true, force: true });
  };

  try {
    progress({
      phase: 'stack',
      message: `starting ${n} broker(s), toxiproxy${wantRegistry ? ', registry' : ''} in ${dir}`,
    });
    if (registryInstall) {
      registryStart = startRegistry({
        install: registryInstall,
        port: ports.registry,
        managementPort: ports.registryManagement,
        dir,
      });
      registryStart.catch(() => {});
    }
    const toxiStart = startToxiproxy({ bin: toxiInstall.bin, port: ports.toxiproxyApi, dir });
    await Promise.all(configs.map((c) => formatBroker(c)));
    for (const c of configs) procs.set(c.id, await startBroker(c));
    toxi = await toxiStart;
    for (const c of configs) {
      await toxi.client.createProxy({
        name: proxyName(c.id),
        listen: `127.0.0.1:${c.ports.proxy}`,
        upstream: `127.0.0.1:${c.ports.listener}`,
      });
    }
    progress({ phase: 'stack', message: 'toxiproxy ready; waiting for brokers' });

    const bootstrap = `127.0.0.1:${ports.brokers[0]!.direct}`;
    const proxiedBootstrap = `127.0.0.1:${ports.brokers[0]!.proxy}`;
    const deadBroker = () => {
      for (const [id, p] of procs) {
        if (!p.running()) return `broker ${id} exited on start; last lines of ${p.logFile}:\n${p.logTail(25)}`;
      }
      return undefined;
    };
    await waitClusterReady({ bootstrap, proxiedBootstrap, brokers: n, timeoutMs, progress, failFast: deadBroker });
    if (registryStart) {
      progress({ phase: 'stack', message: 'kafka ready; waiting for the schema registry' });
      registry = await registryStart;
    }
    const startSeconds = (Date.now() - started) / 1000;
    progress({ phase: 'stack', message: `ready in ${startSeconds.toFixed(1)} s`, fraction: 1 });

    const toxiproxyVersion = toxiInstall.version;
    const startedAt = new Date(started).toISOString();
    let stopped = false;
    const client = toxi.client;
    const toxiProc = toxi.process;
    const handles = new Map<number, BrokerHandle>();
    for (const c of configs) {
      const waitBack = async () => {
        await waitFor(
          `broker ${c.id} back in the cluster metadata`,
          async () => (await brokerIds(bootstrapFor(c.id))).includes(c.id),
          {
            timeoutMs,
            intervalMs: 250,
            failFast: () =>
              procs.get(c.id)!.running()
                ? undefined
                : `broker ${c.id} exited on restart:\n${procs.get(c.id)!.logTail(25)}`,
          },
        );
      };
      // When broker 1 is down, ask another broker about the cluster.
      const bootstrapFor = (id: number) => {
        const other = configs.find((o) => o.id !== id && procs.get(o.id)?.running());
        return `127.0.0.1:${(other ?? c).ports.direct}`;
      };
      const h: BrokerHandle = {
        id: c.id,
        get pid() {
          return procs.get(c.id)!.pid;
        },
        running: () => procs.get(c.id)!.running(),
        async kill() {
          const p = procs.get(c.id)!;
          p.signal('SIGKILL');
          await p.exited;
        },
        pause: () => procs.get(c.id)!.signal('SIGSTOP'),
        resume: () => procs.get(c.id)!.signal('SIGCONT'),
        async start() {
          if (procs.get(c.id)!.running()) return;
          procs.set(c.id, await startBroker(c));
          await waitBack();
        },
        async stop() {
          await procs.get(c.id)!.stop(30_000);
        },
        async restart() {
          await h.stop();
          await h.start();
        },
      };
      handles.set(c.id, h);
    }

    const stack: StartedStack = {
      bootstrap,
      proxiedBootstrap,
      registryUrl: registry?.url,
      toxiproxy: client,
      ports,
      broker(id) {
        const h = handles.get(id);
        if (!h) throw new StreamproofError('USAGE', `broker:${id}: no such broker (this stack has ${n})`);
        return h;
      },
      status: () => ({
        kafka: {
          version: versions.kafka,
          bootstrap,
          proxiedBootstrap,
          clusterId,
          brokers: configs.map((c) => ({
            id: c.id,
            direct: `127.0.0.1:${c.ports.direct}`,
            proxied: `127.0.0.1:${c.ports.proxy}`,
            proxy: proxyName(c.id),
            pid: procs.get(c.id)!.pid,
            running: procs.get(c.id)!.running(),
            log: procs.get(c.id)!.logFile,
          })),
        },
        toxiproxy: { api: toxi!.api, pid: toxiProc.pid, version: toxiproxyVersion },
        registry: registry ? { url: registry.url, pid: registry.process.pid, version: registry.version } : null,
        toolsClasspath: kafkaInstall.classpath,
        dir,
        startedAt,
        startSeconds,
      }),
      async stop() {
        if (stopped) return;
        stopped = true;
        for (const h of handles.values()) if (h.running()) await h.resume();
        await stopAll();
      },
      [Symbol.asyncDispose]() {
        return stack.stop();
      },
    };
    return stack;
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/**
 * A KRaft cluster id: 16 random bytes in base64url, as `kafka-storage random-uuid` makes. One that starts with "-"
 * would be read as a flag by the storage tool, so the first character is kept out of "-".
 */
function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}
