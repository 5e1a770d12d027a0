/**
 * The system under test as child processes: N instances of a shell command, each started with the env contract of
 * DESIGN.md and its own log file, each a process target for faults (kill -9 + restart, pause, clean restart).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch, type ManagedProcess, type ProcessControl } from '../stack/process.ts';
import { StreamproofError } from '../util/errors.ts';

export interface SutEnv {
  bootstrap: string;
  inputTopic: string;
  outputTopic: string;
  groupId: string;
  transactionalId: string;
  registryUrl: string | undefined;
  lakeDir: string;
  /** The dead-letter topic (`sut.dlq`), when the scenario names one. */
  dlqTopic?: string;
  /** An external cluster's STREAMPROOF_SECURITY_*, SASL_* and SSL_* variables (external-stack.ts); none locally. */
  securityEnv?: Record<string, string>;
}

/** A process of the SUT that faults act on: one of its instances, or a component of the reference SUT. */
export interface SutProcess extends ProcessControl {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  restart(): Promise<void>;
  /** Restarts since the run began (kill faults count). */
  readonly starts: number;
  /** Exits that nobody asked for (the SUT crashed by itself). */
  readonly unexpectedExits: { time: number; code: number | null; signal: string | null }[];
}

export interface SutInstance extends SutProcess {
  /** 0-based, as STREAMPROOF_INSTANCE. */
  readonly index: number;
}

export interface StartedSut {
  readonly instances: SutInstance[];
  /** The reference pipeline's collector (HTTP ingest), e.g. `http://127.0.0.1:8080`. */
  readonly collectorUrl?: string;
  /**
   * Processes of the SUT beside its instances, by component name (`lake` -> the process named `sut:lake`): the
   * reference pipeline's lake sink and collector. Process faults target them as `sut:<name>`.
   */
  readonly components?: Readonly<Record<string, SutProcess>>;
  stop(): Promise<void>;
}

export function contractEnv(env: SutEnv, index: number): Record<string, string> {
  return {
    STREAMPROOF_BOOTSTRAP_SERVERS: env.bootstrap,
    STREAMPROOF_INPUT_TOPIC: env.inputTopic,
    STREAMPROOF_OUTPUT_TOPIC: env.outputTopic,
    STREAMPROOF_GROUP_ID: env.groupId,
    STREAMPROOF_TRANSACTIONAL_ID: `${env.transactionalId}-${index}`,
    STREAMPROOF_SCHEMA_REGISTRY_URL: env.registryUrl ?? '',
    STREAMPROOF_LAKE_DIR: env.lakeDir,
    ...(env.dlqTopic ? { STREAMPROOF_DLQ_TOPIC: env.dlqTopic } : {}),
    ...env.securityEnv,
    STREAMPROOF_INSTANCE: String(index),
  };
}

export async function startSut(opts: {
  command: string;
  instances: number;
  env: SutEnv;
  extraEnv?: Record<string, string>;
  cwd?: string;
  logDir: string;
}): Promise<StartedSut> {
  mkdirSync(opts.logDir, { recursive: true });
  mkdirSync(opts.env.lakeDir, { recursive: true });
  const instances: SutInstance[] = [];
  for (let i = 0; i < opts.instances; i++) {
    const logFile = join(opts.logDir, `sut-${i}.log`);
    const spawnOne = () =>
      launch({
        name: `sut:${i}`,
        command: 'bash',
        args: ['-c', opts.command],
        cwd: opts.cwd,
        env: { ...process.env, ...opts.extraEnv, ...contractEnv(opts.env, i) },
        logFile,
      });
    let proc: ManagedProcess = await spawnOne();
    let expected = false;
    let starts = 1;
    const unexpectedExits: SutInstance['unexpectedExits'] = [];
    const watch = (p: ManagedProcess) => {
      void p.exited.then((e) => {
        if (!expected && p === proc) unexpectedExits.push({ time: Date.now(), code: e.code, signal: e.signal });
      });
    };
    watch(proc);
    const inst: SutInstance = {
      name: `sut:${i}`,
      index: i,
      get pid() {
        return proc.pid;
      },
      logFile,
      running: () => proc.running(),
      async kill() {
        expected = true;
        proc.signal('SIGKILL');
        await proc.exited;
      },
      pause: () => proc.signal('SIGSTOP'),
      resume: () => proc.signal('SIGCONT'),
      async start() {
        if (proc.running()) return;
        expected = false;
        proc = await spawnOne();
        starts++;
        watch(proc);
      },
      async stop() {
        expected = true;
        await proc.stop(10_000);
      },
      async restart() {
        await inst.stop();
        await inst.start();
      },
      get starts() {
        return starts;
      },
      unexpectedExits,
    };
    instances.push(inst);
  }
  return {
    instances,
    async stop() {
      await Promise.allSettled(instances.map((x) => x.stop()));
    },
  };
}

export function sutFailed(inst: SutInstance, what: string): StreamproofError {
  let tail = '';
  try {
    tail = readFileSync(inst.logFile, 'utf8').trimEnd().split('\n').slice(-20).join('\n');
  } catch {
    tail = '(no log)';
  }
  return new StreamproofError('STACK_START_FAILED', `${inst.name} ${what}; last lines of ${inst.logFile}:\n${tail}`);
}
