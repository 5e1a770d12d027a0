/**
 * The runner: scenario -> stack -> topics -> SUT -> ready -> observer -> load + faults -> heal -> drain -> checkers
 * -> reports -> result, as named phases (`RUN_PHASES`).
 *
 * Every run is replayable: the seed fixes the events (and any seeded fault times), and the result carries the
 * command that replays it. Faults are healed in `finally`, whatever happened; the stack and the SUT are children of
 * this process (lifeline), so even a killed runner leaves nothing behind.
 *
 * Honest verdicts: whatever fails in the harness (an exception in a phase, an uncaught error or unhandled rejection
 * in a dependency while the run is in progress, a report that cannot be written) makes the verdict `unknown` (exit
 * 3), and result.json says the phase it happened in, the error and where the logs are. Exit 1 is only ever a
 * checker's finding.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { type ComposedResult, latency, order, runCheckers, schema, slo } from '../checkers/index.ts';
import { type ContractSetup, inputReader } from '../contracts/index.ts';
import { sutKafka } from '../faults/apply-group.ts';
import { type FaultContext, healAll, type ProcessTarget, runSchedule, stackFaultContext } from '../faults/index.ts';
import { History, saveHistory } from '../history/index.ts';
import { ensureTopic } from '../kafka/clients.ts';
import { type StartedStack, startStack } from '../stack/stack.ts';
import { versions } from '../stack/versions.ts';
import { captureCrashes } from '../util/crash.ts';
import { StreamproofError } from '../util/errors.ts';
import { type Progress, silent } from '../util/progress.ts';
import { createContract } from './contract-setup.ts';
import { type DrainReport, drainPipeline } from './drain.ts';
import { connectExternal, sutSecurityEnv } from './external-stack.ts';
import { type LagSampler, type LagSamples, lagResult, startLagSampler } from './lag.ts';
import { type Observer, startObserver } from './observer.ts';
import { outputUnread } from './output-end.ts';
import { waitReady } from './ready.ts';
import { startReferenceSut } from './reference-sut.ts';
import { buildResult, type RunError, type RunResult } from './result.ts';
import { assertStackAlive, drainNote, inPhase, replayCommand, runError } from './run-support.ts';
import type { Scenario } from './scenario.ts';
import { describeStages, registerSchemas, startScenarioLoad } from './scenario-load.ts';
import { schemaUpgradeHook } from './schema-upgrade.ts';
import { dlqOf, judgeLake, type LakeSummary, lakeDirOf, lakeOf, readDlq } from './side-outputs.ts';
import { type StartedSut, startSut } from './sut.ts';

/** The phases of a run, in order (with `sut.start: "after-load"` the load comes before the SUT). */
export const RUN_PHASES = [
  'stack',
  'topics',
  'sut',
  'ready',
  'observer',
  'load',
  'faults',
  'drain',
  'checkers',
  'reports',
] as const;
export type RunPhase = (typeof RUN_PHASES)[number];

export interface RunHooks {
  /** Called as each phase begins. A throw or a rejection fails the run in that phase (verdict unknown, exit 3). */
  beforePhase?(phase: RunPhase): void | Promise<void>;
}

export interface RunOptions {
  scenario: Scenario;
  /** The scenario file, for the replay command. */
  scenarioFile?: string;
  seed?: number;
  outDir: string;
  progress?: Progress;
  /** Use this stack instead of starting one (tests share a stack between runs); ignored with `stack.external`. */
  stack?: StartedStack;
  /** The argv that replays this run (without --seed); default `streamproof run <file>`. */
  replayBase?: string;
  /** Load workers, overriding `load.workers` (harness/workers). */
  workers?: number;
  /** How many of them this process starts locally (default all; the rest join with `streamproof worker`). */
  spawnWorkers?: number;
  hooks?: RunHooks;
  /**
   * Writes the run's reports (the CLI's: report.html and report.md beside result.json), as the run's `reports` phase:
   * it may drop a file from `result.files` and add a note; a throw makes the verdict unknown (exit 3) in phase
   * `reports`. Without it, the run writes no reports (result.json, the history and the anomalies all the same).
   */
  writeReports?: (result: RunResult) => void | Promise<void>;
}

export async function runScenario(opts: RunOptions): Promise<RunResult> {
  const sc = opts.scenario;
  const progress = opts.progress ?? silent;
  const seed = opts.seed ?? sc.events.seed;
  const outDir = resolve(opts.outDir);
  mkdirSync(outDir, { recursive: true });
  const started = Date.now();
  const runId = `${sc.name}-${seed}-${started.toString(36)}`;
  const history = new History();
  const notes: string[] = [];
  const timeline: Record<string, number> = { started };
  const crash = captureCrashes();
  let phase: RunPhase = 'stack';
  let stack = opts.stack;
  const ownStack = !stack || sc.stack.external !== undefined; // a scenario's own cluster wins over a given stack
  let sut: StartedSut | undefined;
  let observer: Observer | undefined;
  let composed: ComposedResult | undefined;
  let harnessError: RunError | undefined;
  let loadSummary: unknown;
  let faultReport: unknown;
  let drained: DrainReport | undefined;
  let lagSampler: LagSampler | undefined;
  let lagSamples: LagSamples | undefined;
  let faultCtx: FaultContext | undefined;
  let lakeSummary: LakeSummary | undefined;
  let dlqTopic: string | undefined;
  const abort = new AbortController();

  // The contract is built first: a module it names that does not load is bad input (exit 64) before anything starts.
  const schemaVersions = new Map<number, 1 | 2 | 3>();
  let registryUrl: string | undefined;
  const setup: ContractSetup = {
    format: sc.events.format,
    versionOf: (id) => schemaVersions.get(id),
    get registryUrl() {
      return registryUrl;
    },
    baseDir: opts.scenarioFile ? dirname(resolve(opts.scenarioFile)) : process.cwd(),
  };

  const enter = async (p: RunPhase) => {
    phase = p;
    timeline[`${p}Start`] = Date.now();
    await opts.hooks?.beforePhase?.(p);
  };

  const body = async () => {
    await enter('stack');
    const theContract = await createContract(sc, setup);
    const lakeSpec = lakeOf(sc);
    // The lake is judged by a second instance of the same contract (its own sightings, its own verdict).
    const lakeContract = lakeSpec ? await createContract(sc, setup) : undefined;
    if (sc.stack.external) stack = await connectExternal(sc.stack.external, { runId, progress });
    if (!stack) {
      progress({ phase: 'run', message: `starting a ${sc.stack.brokers}-broker stack` });
      stack = await startStack({
        brokers: sc.stack.brokers,
        registry: sc.stack.registry,
        runtime: sc.stack.runtime,
        images: sc.stack.images,
        dir: join(outDir, 'stack'),
        progress,
      });
    }
    const theStack = stack;
    timeline.stackReady = Date.now();

    await enter('topics');
    // A run owns its topics by name; a reused stack gets run-scoped names.
    const topicSuffix = ownStack && !sc.stack.external ? '' : `.${runId}`;
    const input = `${sc.topics.input}${topicSuffix}`;
    const output = `${sc.topics.output}${topicSuffix}`;
    const dlq = dlqOf(sc, input, topicSuffix);
    for (const t of [input, output, ...(dlq ? [dlq.topic] : [])]) {
      await ensureTopic(stack.bootstrap, t, { partitions: sc.stack.partitions, replicas: sc.stack.replicationFactor });
    }
    const { schemaId, versionOf } = await registerSchemas(sc, theStack, input);
    for (const [id, v] of versionOf) schemaVersions.set(id, v);
    registryUrl = theStack.registryUrl;
    const sutEnv = {
      bootstrap: stack.proxiedBootstrap,
      inputTopic: input,
      outputTopic: output,
      groupId: `sut-${runId}`,
      transactionalId: `sut-${runId}`,
      registryUrl: stack.registryUrl,
      lakeDir: lakeDirOf(outDir),
      securityEnv: sutSecurityEnv(theStack),
      ...(dlq ? { dlqTopic: dlq.topic } : {}),
    };

    const startTheSut = async () => {
      await enter('sut');
      progress({ phase: 'run', message: `starting the SUT: ${sc.sut.command} (${sc.sut.instances} instance(s))` });
      sut =
        sc.sut.command === 'reference'
          ? await startReferenceSut({
              env: sutEnv,
              instances: sc.sut.instances,
              format: sc.events.format,
              partitions: sc.stack.partitions,
              logDir: join(outDir, 'sut'),
              extraEnv:
                sc.load.http?.token !== undefined && sc.load.http.target === undefined
                  ? { ...sc.sut.env, STREAMPROOF_COLLECTOR_TOKEN: sc.load.http.token }
                  : sc.sut.env,
            })
          : await startSut({
              command: sc.sut.command,
              instances: sc.sut.instances,
              env: sutEnv,
              extraEnv: sc.sut.env,
              cwd: sc.sut.cwd,
              logDir: join(outDir, 'sut'),
            });
      const theSut = sut;
      await enter('ready');
      await waitReady(sc.sut.ready, {
        bootstrap: theStack.bootstrap,
        groupId: `sut-${runId}`,
        topic: input,
        partitions: sc.stack.partitions,
        instances: theSut.instances,
        timeoutMs: sc.sut.readyTimeoutMs,
      });
      timeline.sutReady = Date.now();
      faultCtx = stackFaultContext(
        theStack,
        () => theSut.instances as readonly ProcessTarget[],
        () => theSut.components ?? {},
        { ...sutEnv, topicSuffix },
      );
      faultCtx.sutKafka = sutKafka({ ...sutEnv, bootstrap: theStack.bootstrap });
      return theSut;
    };

    const afterLoad = sc.sut.start === 'after-load';
    if (!afterLoad) await startTheSut();

    await enter('observer');
    observer = await startObserver({
      bootstrap: stack.bootstrap,
      topic: output,
      history,
      decode: (r) => theContract.decode(r),
    });

    await enter('load');
    progress({
      phase: 'run',
      message: `load: ${describeStages(sc)} for ${sc.load.durationMs / 1000} s, ${sc.faults.length} fault(s)${afterLoad ? ' (the SUT starts after it)' : ''}`,
    });
    const load = startScenarioLoad(sc, {
      workers: opts.workers,
      spawnWorkers: opts.spawnWorkers,
      stack: theStack,
      sutUrl: sut?.collectorUrl,
      input,
      runId,
      seed,
      schemaId,
      history,
      outDir,
      progress,
      signal: abort.signal,
    });
    schemaUpgradeHook(faultCtx, load, { sc, input, setup, versions: schemaVersions, workers: opts.workers });
    try {
      const { startTime } = await load.ready.catch(inPhase('load'));
      timeline.loadStart = startTime;
      // Sampled until the output has drained (stopped in the outer finally); never fails the run.
      lagSampler = startLagSampler({
        bootstrap: stack.bootstrap,
        group: sutEnv.groupId,
        topic: input,
        partitions: sc.stack.partitions,
      });
      let schedule: Promise<unknown> | undefined;
      const startFaults = async (start: number) => {
        await enter('faults');
        schedule = runSchedule(sc.faults, faultCtx!, {
          start,
          seed,
          durationMs: sc.load.durationMs,
          record: (r) => history.record(r),
          signal: abort.signal,
        }).catch(inPhase('faults'));
        schedule.catch(() => undefined); // awaited below; a rejection before then is not unhandled
      };
      if (!afterLoad) await startFaults(startTime);
      loadSummary = await load.done.catch(inPhase('load'));
      timeline.loadEnd = Date.now();
      if (afterLoad) {
        await startTheSut();
        await startFaults(Date.now());
      }
      faultReport = await schedule;
    } finally {
      abort.abort();
      await load.stop().catch(() => undefined);
      await healFaults();
    }
    await assertStackAlive(theStack);

    await enter('drain');
    progress({
      phase: 'run',
      message: `draining: waiting for the SUT to consume everything and its output to be quiet for ${sc.drain.quietMs} ms`,
    });
    drained = await drainPipeline({
      bootstrap: stack.bootstrap,
      group: sutEnv.groupId,
      topic: input,
      partitions: sc.stack.partitions,
      observer,
      quietMs: sc.drain.quietMs,
      timeoutMs: sc.drain.timeoutMs,
      ...(theContract.nothingMissing ? { nothingMissing: () => theContract.nothingMissing!(history) } : {}),
      groupConsumer: sc.sut.ready === 'group',
      progress,
    });
    // Quiet output is only evidence if the observer read the output to its end: one stuck on a partition would turn
    // every committed record after it into a false `lost`.
    const unread = await outputUnread({
      bootstrap: theStack.bootstrap,
      topic: output,
      positions: () => observer!.positions(),
      timeoutMs: Math.max(10_000, sc.drain.quietMs * 2),
    });
    if (unread !== undefined) {
      throw new StreamproofError(
        'TIMEOUT',
        `${unread}: the output cannot be judged (the drain's quiet output was the observer not moving)`,
      );
    }
    progress({ phase: 'run', message: `judging the output under the ${theContract.name} contract` });
    const finishCtx = {
      input: inputReader({ bootstrap: theStack.bootstrap, topic: input, ...setup }),
      drainComplete: drained.complete,
      committed: drained.committed ?? {},
      outDir,
    };
    await theContract.finish({ ...finishCtx, history });
    history.record({
      kind: 'drain',
      time: Date.now(),
      complete: drained.complete,
      consumed: [...(theContract.consumedPast?.() ?? [])],
    });
    if (!drained.complete) notes.push(drainNote(drained, sc));
    else if (drained.evidence === 'quiet-output') notes.push(`drain: relied on ${drained.waitedFor}`);
    timeline.drained = Date.now();
    notes.push(
      ...(sut?.instances ?? []).flatMap((i) =>
        i.unexpectedExits.map((e) => `${i.name} exited by itself (code ${e.code}, signal ${e.signal})`),
      ),
    );

    const dlqRead = dlq ? await readDlq(theStack.bootstrap, dlq) : undefined;
    dlqTopic = dlq?.topic;
    const lake =
      lakeSpec && lakeContract
        ? await judgeLake({
            sc,
            spec: lakeSpec,
            lakeDir: sutEnv.lakeDir,
            history,
            contract: lakeContract,
            finish: finishCtx,
            progress,
          })
        : undefined;
    lakeSummary = lake?.summary;

    await enter('checkers');
    // The contract's own checkers (copy: exactly-once over the bitsets; lineage, model, attribution: against what
    // really landed in the input), then order, schema, latency and SLOs over the sightings it recorded.
    composed = runCheckers(history, [
      ...theContract.checkers(),
      order({ keyAffinity: theContract.keyAffinity }),
      schema(),
      latency(),
      slo(sc.slo),
      ...(dlqRead ? [dlqRead.checker()] : []),
      ...(lake?.checkers ?? []),
    ]);
    writeFileSync(
      join(outDir, 'anomalies.json'),
      `${JSON.stringify(theContract.anomalies(history, composed), null, 1)}\n`,
    );
    if (lake) {
      const all = lake.contract.anomalies(lake.history, composed);
      writeFileSync(join(outDir, 'anomalies-lake.json'), `${JSON.stringify(all, null, 1)}\n`);
    }
  };

  const healFaults = async () => {
    if (!faultCtx) return;
    const ctx = faultCtx;
    faultCtx = undefined;
    await healAll(ctx).catch((err: unknown) => notes.push(`healAll: ${(err as Error).message}`));
    timeline.healed = Date.now();
  };

  const running = body();
  running.catch(() => undefined); // raced below; after a crash it may still reject
  try {
    await Promise.race([running, crash.crashed]);
  } catch (err) {
    harnessError = runError(err, phase, outDir, sut);
    abort.abort();
  } finally {
    await healFaults();
    lagSamples = await lagSampler?.stop().catch(() => undefined);
    await observer?.stop().catch(() => undefined);
    notes.push(...(observer?.notes() ?? []));
    await sut?.stop().catch(() => undefined);
    if (ownStack) await stack?.stop().catch(() => undefined);
  }
  notes.push(...crash.errors.slice(harnessError ? 1 : 0).map((e) => `also uncaught: ${e.split('\n')[0]}`));

  const result = await finishRun();
  crash.dispose();
  return result;

  async function finishRun(): Promise<RunResult> {
    await saveHistory(join(outDir, 'history.json'), history).catch((err: unknown) =>
      notes.push(`history.json could not be written: ${(err as Error).message}`),
    );
    const make = () =>
      buildResult({
        scenario: sc,
        seed,
        outDir,
        replay: replayCommand(opts, seed),
        versions: { kafka: versions.kafka, toxiproxy: versions.toxiproxy, node: process.versions.node },
        timeline,
        finished: Date.now(),
        history,
        composed: harnessError ? undefined : composed,
        harnessError,
        load: loadSummary,
        faults: faultReport,
        drain: drained,
        notes,
        observedRecords: observer?.count ?? 0,
        lag: lagResult(lagSamples, history.latency.series(), notes),
        lake: lakeSummary,
        dlqTopic,
      });
    let result = make();
    try {
      await enter('reports');
      await opts.writeReports?.(result);
    } catch (err) {
      harnessError ??= runError(err, 'reports', outDir, sut);
      result = make();
    }
    writeFileSync(join(outDir, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
    return result;
  }
}
