/**
 * `--sut reference`: the bundled attribution pipeline (collector, N attributors, lake sink) as the SUT. Process
 * faults on `sut` / `sut:I` hit the attributors (the stream processor); the collector and the lake sink run beside
 * them, targets `sut:collector` and `sut:lake` (StartedSut.components). The runner's load writes to the input topic
 * directly, as event sources behind the collector would.
 *
 * The runner starts the reference as any SUT is started: by command. Each component is `node
 * reference-pipeline/<component>/main.ts` (the compiled .js in the package), configured by the SUT env contract plus
 * the reference's own variables (DLQ and changelog topics, partitions, the collector's format and port, a metrics
 * port), under lifeline so it dies with the runner; ready when its `/healthz` answers 200. The harness imports no
 * code of the reference pipeline (scripts/check-layers.mjs keeps it so).
 *
 * A modified component (a fork of the reference attributor, a deliberately broken build in a test) runs in place of
 * the shipped one when STREAMPROOF_REFERENCE_ATTRIBUTOR (or _COLLECTOR, _LAKE) names its entry file, in the scenario's
 * `sut.env` or the runner's env; a relative path is from the working directory. A `.ts` entry runs through tsx.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, type ManagedProcess } from '../stack/process.ts';
import { nodeArgs } from '../util/entry.ts';
import { StreamproofError } from '../util/errors.ts';
import type { ReferenceComponent } from './scenario-sut.ts';
import type { StartedSut, SutEnv, SutInstance, SutProcess } from './sut.ts';

type Component = ReferenceComponent | 'attributor';

/** The directory holding reference-pipeline/ (the checkout, or the package's dist/). */
const root = fileURLToPath(new URL('../../', import.meta.url));
const READY_TIMEOUT_MS = 90_000;
const STOP_GRACE_MS = 20_000;

/** A component's entry file (its .ts source path; nodeArgs runs the compiled .js from the package). */
export function referenceEntry(component: Component): string {
  return join(root, 'reference-pipeline', component, 'main.ts');
}

/** The variable naming a component's replacement entry file: STREAMPROOF_REFERENCE_ATTRIBUTOR, ... */
export function entryOverrideVar(component: Component): string {
  return `STREAMPROOF_REFERENCE_${component.toUpperCase()}`;
}

/** node's arguments to run a component: the replacement entry `env` names, else the shipped one. */
export function componentArgs(component: Component, env: NodeJS.ProcessEnv, cwd = process.cwd()): string[] {
  const override = env[entryOverrideVar(component)];
  if (!override) return nodeArgs(referenceEntry(component));
  const file = resolve(cwd, override);
  if (!existsSync(file)) {
    throw new StreamproofError('USAGE', `${entryOverrideVar(component)}: no file ${file}`);
  }
  return file.endsWith('.ts') ? ['--import', 'tsx', file] : [file];
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function healthy(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

interface ComponentProcess {
  readonly name: string;
  readonly port: number;
  readonly logFile: string;
  readonly pid: number;
  running(): boolean;
  signal(sig: NodeJS.Signals): void;
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(graceMs?: number): Promise<void>;
}

function component(
  kind: Component,
  instance: string,
  port: number,
  baseEnv: Record<string, string>,
  logDir: string,
): ComponentProcess {
  const name = kind === 'attributor' ? `attributor-${instance}` : kind;
  const logFile = join(logDir, `${name}.log`);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...baseEnv,
    STREAMPROOF_INSTANCE: instance,
    ...(kind === 'collector'
      ? { STREAMPROOF_COLLECTOR_PORT: String(port) }
      : { STREAMPROOF_METRICS_PORT: String(port) }),
  };
  let proc: ManagedProcess | undefined;
  return {
    name,
    port,
    logFile,
    get pid() {
      return proc?.pid ?? -1;
    },
    running: () => proc?.running() ?? false,
    signal: (sig) => proc?.signal(sig),
    async kill() {
      if (!proc) return;
      proc.signal('SIGCONT');
      proc.signal('SIGKILL');
      await proc.exited;
    },
    async start() {
      if (proc?.running()) return;
      const args = componentArgs(kind, env);
      const p = await launch({ name, command: process.execPath, args, cwd: root, env, logFile });
      proc = p;
      const deadline = Date.now() + READY_TIMEOUT_MS;
      for (;;) {
        if (await healthy(port)) return;
        if (!p.running()) throw new Error(`${name} exited on start; last lines of ${logFile}:\n${p.logTail(30)}`);
        if (Date.now() > deadline) {
          throw new Error(
            `${name}: /healthz not 200 after ${READY_TIMEOUT_MS} ms; last lines of ${logFile}:\n${p.logTail(30)}`,
          );
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async stop(graceMs = STOP_GRACE_MS) {
      if (proc?.running()) await proc.stop(graceMs);
    },
  };
}

/**
 * A component as a process faults act on, named as targets name it (plus `extra`: an attributor's index). A restart
 * keeps its port (the collector's URL, a metrics port); `starts` counts every start, the first included.
 */
function sutProcess<T extends object>(c: ComponentProcess, name: string, extra: T): SutProcess & T {
  let starts = 1;
  const p: SutProcess & T = {
    ...extra,
    name,
    get pid() {
      return c.pid;
    },
    logFile: c.logFile,
    running: () => c.running(),
    kill: () => c.kill(),
    pause: () => c.signal('SIGSTOP'),
    resume: () => c.signal('SIGCONT'),
    async start() {
      if (c.running()) return;
      await c.start();
      starts++;
    },
    stop: () => c.stop(),
    async restart() {
      await p.stop();
      await p.start();
    },
    get starts() {
      return starts;
    },
    unexpectedExits: [],
  };
  return p;
}

export async function startReferenceSut(opts: {
  env: SutEnv;
  instances: number;
  format: 'json' | 'avro';
  partitions: number;
  logDir: string;
  extraEnv?: Record<string, string>;
}): Promise<StartedSut> {
  const { env } = opts;
  mkdirSync(opts.logDir, { recursive: true });
  mkdirSync(env.lakeDir, { recursive: true });
  const baseEnv: Record<string, string> = {
    STREAMPROOF_BOOTSTRAP_SERVERS: env.bootstrap,
    STREAMPROOF_INPUT_TOPIC: env.inputTopic,
    STREAMPROOF_OUTPUT_TOPIC: env.outputTopic,
    STREAMPROOF_DLQ_TOPIC: `${env.inputTopic}.dlq`,
    // One changelog per consumer group: runs sharing a stack must not restore each other's users.
    STREAMPROOF_CHANGELOG_TOPIC: `${env.groupId}-attributor-state`,
    STREAMPROOF_GROUP_ID: env.groupId,
    STREAMPROOF_TRANSACTIONAL_ID: env.transactionalId,
    STREAMPROOF_PARTITIONS: String(opts.partitions),
    STREAMPROOF_COLLECTOR_FORMAT: opts.format,
    ...(env.registryUrl ? { STREAMPROOF_SCHEMA_REGISTRY_URL: env.registryUrl } : {}),
    STREAMPROOF_LAKE_DIR: env.lakeDir,
    ...opts.extraEnv,
  };
  const all: ComponentProcess[] = [];
  const make = async (kind: Component, instance: string) => {
    const c = component(kind, instance, await freePort(), baseEnv, opts.logDir);
    all.push(c);
    return c;
  };
  const stopAll = async (graceMs = STOP_GRACE_MS) => {
    await Promise.allSettled(all.map((c) => c.stop(graceMs)));
  };
  try {
    // The collector first: it creates the input and DLQ topics with the partition count the others then read.
    const collector = await make('collector', '0');
    await collector.start();
    const attributors: ComponentProcess[] = [];
    for (let i = 0; i < opts.instances; i++) attributors.push(await make('attributor', String(i)));
    const lake = await make('lake', '0');
    await Promise.all([...attributors.map((a) => a.start()), lake.start()]);
    const instances: SutInstance[] = attributors.map((a, i) => sutProcess(a, `sut:${i}`, { index: i }));
    const components: Record<ReferenceComponent, SutProcess> = {
      collector: sutProcess(collector, 'sut:collector', {}),
      lake: sutProcess(lake, 'sut:lake', {}),
    };
    return { instances, components, collectorUrl: `http://127.0.0.1:${collector.port}`, stop: () => stopAll() };
  } catch (err) {
    await stopAll(5_000);
    throw err;
  }
}
