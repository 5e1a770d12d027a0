/**
 * `--sut reference`: the bundled attribution pipeline (collector, N attributors, lake sink) as the SUT. Process
 * faults on `sut` / `sut:I` hit the attributors (the stream processor); the collector and the lake sink run beside
 * them. The runner's load writes to the input topic directly, as event sources behind the collector would.
 */
import { startReference } from '../../reference-pipeline/index.ts';
import type { StartedSut, SutEnv, SutInstance } from './sut.ts';

export async function startReferenceSut(opts: {
  env: SutEnv;
  instances: number;
  format: 'json' | 'avro';
  partitions: number;
  logDir: string;
  extraEnv?: Record<string, string>;
}): Promise<StartedSut> {
  const ref = await startReference({
    bootstrap: opts.env.bootstrap,
    registryUrl: opts.env.registryUrl,
    lakeDir: opts.env.lakeDir,
    attributors: opts.instances,
    partitions: opts.partitions,
    format: opts.format,
    inputTopic: opts.env.inputTopic,
    outputTopic: opts.env.outputTopic,
    groupId: opts.env.groupId,
    transactionalId: opts.env.transactionalId,
    logDir: opts.logDir,
    env: opts.extraEnv,
  });
  const instances: SutInstance[] = ref.attributors.map((a, i) => {
    let starts = 1;
    return {
      name: `sut:${i}`,
      index: i,
      get pid() {
        return a.pid;
      },
      logFile: a.logFile,
      running: () => a.running(),
      kill: () => a.kill(),
      pause: () => a.pause(),
      resume: () => a.resume(),
      async start() {
        if (a.running()) return;
        await a.start();
        starts++;
      },
      stop: () => a.stop(),
      restart: () => a.restart(),
      get starts() {
        return starts;
      },
      unexpectedExits: [],
    };
  });
  return { instances, collectorUrl: ref.collectorUrl, stop: () => ref.stop() };
}
