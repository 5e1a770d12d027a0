/**
 * The reference SUT as a library: `startReference()` starts the collector, N attributors and the lake sink as child
 * processes (each `node --import tsx reference-pipeline/<component>/main.ts`, configured by the SUT env contract and
 * its own port), under a lifeline (common/launch.ts) so they die with the caller, and returns a handle per process
 * for faults (kill -9, SIGSTOP/SIGCONT, restart on the same port and env). The reference bench and the integration
 * tests use it; the harness's runner starts the components by their commands itself (harness/runner/reference-sut.ts).
 *
 *   await using ref = await startReference({ bootstrap: stack.proxiedBootstrap, registryUrl, lakeDir, attributors: 2 });
 *   await fetch(`${ref.collectorUrl}/v1/events`, { method: 'POST', body: ndjson });
 *   await ref.attributors[0].kill();   // crash; ref.attributors[0].start() brings it back
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { entryPath, type Launched, launch, nodeArgs } from './common/launch.ts';
import { parseMetrics } from './common/metrics.ts';
import type { AttributionOptions } from './model/index.ts';

export type ComponentKind = 'collector' | 'attributor' | 'lake';

export interface ReferenceOptions {
  /** Bootstrap servers the pipeline uses (give it the proxied one, so network faults reach it). */
  bootstrap: string;
  registryUrl?: string;
  /** Lake root (created if missing). Required unless `lake: false`. */
  lakeDir?: string;
  /** Attributor instances in the consumer group. Default 1. */
  attributors?: number;
  /** Start the lake sink. Default true. */
  lake?: boolean;
  /** Partitions of the topics the pipeline creates. Default 4. */
  partitions?: number;
  /** Value encoding of the collector. Default 'avro' (needs `registryUrl`). */
  format?: 'avro' | 'json';
  inputTopic?: string;
  outputTopic?: string;
  dlqTopic?: string;
  /** Default `attributor-state`, or `<groupId>-attributor-state` when `groupId` is given. */
  changelogTopic?: string;
  groupId?: string;
  transactionalId?: string;
  /** Collector HTTP port. Default: a free port. */
  collectorPort?: number;
  collectorToken?: string;
  /** The attribution model's options (the checker must use the same). */
  attributionOptions?: AttributionOptions;
  /** Extra env for every component, then per kind (e.g. `{ STREAMPROOF_ATTRIBUTOR_COMMIT_DELAY_MS: '500' }`). */
  env?: Record<string, string>;
  componentEnv?: Partial<Record<ComponentKind, Record<string, string>>>;
  /** Where component logs go. Default a fresh directory under the OS temp dir. */
  logDir?: string;
  readyTimeoutMs?: number;
}

export interface ComponentHandle {
  readonly kind: ComponentKind;
  /** `collector`, `attributor-0`, `attributor-1`, ..., `lake`. */
  readonly name: string;
  readonly instance: string;
  /** Pid of the current process (changes on start after a kill). */
  readonly pid: number;
  /** HTTP port of `/healthz` and `/metrics` (the collector's ingest port too); kept across restarts. */
  readonly port: number;
  readonly metricsUrl: string;
  readonly logFile: string;
  running(): boolean;
  /** SIGKILL; resolves once the process is gone. */
  kill(): Promise<void>;
  /** SIGSTOP (a frozen process: no heartbeats, open transactions stay open). */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** SIGTERM (graceful stop), SIGKILL after the grace period. */
  stop(graceMs?: number): Promise<void>;
  /** Start again with the same env and port (after kill or stop); resolves when `/healthz` answers 200. */
  start(): Promise<void>;
  restart(): Promise<void>;
  /** Its Prometheus metrics, parsed: `name{labels}` -> value. */
  metrics(): Promise<Map<string, number>>;
}

export interface StartedReference extends AsyncDisposable {
  readonly collectorUrl: string;
  readonly collector: ComponentHandle;
  readonly attributors: ComponentHandle[];
  readonly lake: ComponentHandle | undefined;
  readonly topics: { input: string; output: string; dlq: string; changelog: string };
  readonly groupId: string;
  readonly logDir: string;
  /** Every component. */
  components(): ComponentHandle[];
  /** One more attributor in the group (scale out; triggers a rebalance). */
  addAttributor(): Promise<ComponentHandle>;
  /** SIGTERM every component (in parallel), SIGKILL after the grace period. */
  stop(graceMs?: number): Promise<void>;
}

const root = fileURLToPath(new URL('..', import.meta.url));

/** A component's main file: its .ts source from a checkout, the compiled .js from the package. */
export function entryFile(kind: ComponentKind): string {
  return entryPath(join(root, 'reference-pipeline', kind, 'main.ts'));
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startReference(options: ReferenceOptions): Promise<StartedReference> {
  const wantLake = options.lake ?? true;
  if (wantLake && !options.lakeDir) throw new Error('startReference: lakeDir is required unless lake: false');
  const format = options.format ?? 'avro';
  if (format === 'avro' && !options.registryUrl) {
    throw new Error("startReference: format 'avro' needs registryUrl (or pass format: 'json')");
  }
  const topics = {
    input: options.inputTopic ?? 'events',
    output: options.outputTopic ?? 'attributions',
    dlq: options.dlqTopic ?? `${options.inputTopic ?? 'events'}.dlq`,
    // One changelog per consumer group: runs sharing a stack must not restore each other's users.
    changelog: options.changelogTopic ?? (options.groupId ? `${options.groupId}-attributor-state` : 'attributor-state'),
  };
  const groupId = options.groupId ?? 'streamproof-reference';
  const logDir = options.logDir ?? mkdtempSync(join(tmpdir(), 'streamproof-reference-'));
  mkdirSync(logDir, { recursive: true });
  if (options.lakeDir) mkdirSync(options.lakeDir, { recursive: true });
  const readyTimeoutMs = options.readyTimeoutMs ?? 90_000;

  const baseEnv: Record<string, string> = {
    STREAMPROOF_BOOTSTRAP_SERVERS: options.bootstrap,
    STREAMPROOF_INPUT_TOPIC: topics.input,
    STREAMPROOF_OUTPUT_TOPIC: topics.output,
    STREAMPROOF_DLQ_TOPIC: topics.dlq,
    STREAMPROOF_CHANGELOG_TOPIC: topics.changelog,
    STREAMPROOF_GROUP_ID: groupId,
    STREAMPROOF_TRANSACTIONAL_ID: options.transactionalId ?? `${groupId}-tx`,
    STREAMPROOF_PARTITIONS: String(options.partitions ?? 4),
    STREAMPROOF_COLLECTOR_FORMAT: format,
    ...(options.registryUrl ? { STREAMPROOF_SCHEMA_REGISTRY_URL: options.registryUrl } : {}),
    ...(options.lakeDir ? { STREAMPROOF_LAKE_DIR: options.lakeDir } : {}),
    ...(options.collectorToken ? { STREAMPROOF_COLLECTOR_TOKEN: options.collectorToken } : {}),
    ...(options.attributionOptions
      ? { STREAMPROOF_ATTRIBUTION_OPTIONS: JSON.stringify(options.attributionOptions) }
      : {}),
    ...options.env,
  };

  const handles: ComponentHandle[] = [];
  const make = async (kind: ComponentKind, instance: string, fixedPort?: number): Promise<ComponentHandle> => {
    const port = fixedPort ?? (await freePort());
    const name = kind === 'attributor' ? `attributor-${instance}` : kind;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...baseEnv,
      STREAMPROOF_INSTANCE: instance,
      ...(kind === 'collector'
        ? { STREAMPROOF_COLLECTOR_PORT: String(port) }
        : { STREAMPROOF_METRICS_PORT: String(port) }),
      ...options.componentEnv?.[kind],
    };
    const logFile = join(logDir, `${name}.log`);
    let proc: Launched | undefined;
    const metricsUrl = `http://127.0.0.1:${port}/metrics`;
    const healthy = async () => {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2_000) });
        await res.arrayBuffer();
        return res.ok;
      } catch {
        return false;
      }
    };
    const h: ComponentHandle = {
      kind,
      name,
      instance,
      get pid() {
        return proc?.pid ?? -1;
      },
      port,
      metricsUrl,
      logFile,
      running: () => proc?.running() ?? false,
      async kill() {
        if (!proc) return;
        proc.signal('SIGCONT');
        proc.signal('SIGKILL');
        await proc.exited;
      },
      pause: () => proc?.signal('SIGSTOP'),
      resume: () => proc?.signal('SIGCONT'),
      async stop(graceMs = 20_000) {
        if (proc?.running()) await proc.stop(graceMs);
      },
      async start() {
        if (proc?.running()) return;
        const p = await launch({
          name,
          command: process.execPath,
          args: nodeArgs(entryFile(kind)),
          cwd: root,
          env,
          logFile,
        });
        proc = p;
        const deadline = Date.now() + readyTimeoutMs;
        for (;;) {
          if (await healthy()) return;
          if (!p.running()) throw new Error(`${name} exited on start; last lines of ${logFile}:\n${p.logTail(30)}`);
          if (Date.now() > deadline) {
            throw new Error(
              `${name}: /healthz not 200 after ${readyTimeoutMs} ms; last lines of ${logFile}:\n${p.logTail(30)}`,
            );
          }
          await new Promise((r) => setTimeout(r, 200));
        }
      },
      async restart() {
        await h.stop();
        await h.start();
      },
      async metrics() {
        const res = await fetch(metricsUrl, { signal: AbortSignal.timeout(5_000) });
        return parseMetrics(await res.text());
      },
    };
    handles.push(h);
    return h;
  };

  const stopAll = async (graceMs = 20_000) => {
    await Promise.allSettled(handles.map((h) => h.stop(graceMs)));
  };

  try {
    // The collector first: it creates the input and DLQ topics with the partition count the others then read.
    const collector = await make('collector', '0', options.collectorPort);
    await collector.start();
    const attributors: ComponentHandle[] = [];
    for (let i = 0; i < (options.attributors ?? 1); i++) attributors.push(await make('attributor', String(i)));
    const lake = wantLake ? await make('lake', '0') : undefined;
    await Promise.all([...attributors.map((a) => a.start()), lake?.start()]);
    const ref: StartedReference = {
      collectorUrl: `http://127.0.0.1:${collector.port}`,
      collector,
      attributors,
      lake,
      topics,
      groupId,
      logDir,
      components: () => [...handles],
      async addAttributor() {
        const a = await make('attributor', String(attributors.length));
        attributors.push(a);
        await a.start();
        return a;
      },
      stop: stopAll,
      [Symbol.asyncDispose]: () => stopAll(),
    };
    return ref;
  } catch (err) {
    await stopAll(5_000);
    throw err;
  }
}
