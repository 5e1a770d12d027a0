/**
 * The runner: scenario -> stack -> topics -> SUT -> load + faults -> heal -> drain -> checkers -> result.
 *
 * Every run is replayable: the seed fixes the events (and any seeded fault times), and the result carries the
 * command that replays it. Faults are healed in `finally`, whatever happened; the stack and the SUT are children of
 * this process (lifeline), so even a killed runner leaves nothing behind.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EVENT_SCHEMAS } from '../../generators/schemas.ts';
import { writeRunReports } from '../../reports/run-reports.ts';
import {
  attribution,
  type ComposedResult,
  exactlyOnce,
  latency,
  listExactlyOnceAnomalies,
  order,
  runCheckers,
  schema,
  slo,
} from '../checkers/index.ts';
import { healAll, type ProcessTarget, runSchedule, stackFaultContext } from '../faults/index.ts';
import { History, saveHistory } from '../history/index.ts';
import { ensureTopic } from '../kafka/clients.ts';
import { startHttpLoad } from '../load/http.ts';
import { startLoad } from '../load/index.ts';
import { RegistryClient } from '../registry/client.ts';
import { alive } from '../stack/process.ts';
import { type StartedStack, startStack } from '../stack/stack.ts';
import { versions } from '../stack/versions.ts';
import { StreamproofError } from '../util/errors.ts';
import { type Progress, silent } from '../util/progress.ts';
import { coordinateLoad } from '../workers/coordinator.ts';
import { AttributionCollector } from './attribution-contract.ts';
import { type LagSampler, type LagSamples, lagResult, startLagSampler } from './lag.ts';
import { eventDecoder, startObserver } from './observer.ts';
import { waitForGroup } from './ready.ts';
import { startReferenceSut } from './reference-sut.ts';
import { buildResult, type RunResult } from './result.ts';
import type { Scenario } from './scenario.ts';
import { type StartedSut, startSut, sutFailed } from './sut.ts';

export interface RunOptions {
  scenario: Scenario;
  /** The scenario file, for the replay command. */
  scenarioFile?: string;
  seed?: number;
  outDir: string;
  progress?: Progress;
  /** Use this stack instead of starting one (tests share a stack between runs). */
  stack?: StartedStack;
  /** The argv that replays this run (without --seed); default `streamproof run <file>`. */
  replayBase?: string;
  /** Load workers, overriding `load.workers` (harness/workers). */
  workers?: number;
  /** How many of them this process starts locally (default all; the rest join with `streamproof worker`). */
  spawnWorkers?: number;
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
  let stack = opts.stack;
  const ownStack = !stack;
  let sut: StartedSut | undefined;
  let observer: Awaited<ReturnType<typeof startObserver>> | undefined;
  let composed: ComposedResult | undefined;
  let harnessError: StreamproofError | undefined;
  let loadSummary: unknown;
  let faultReport: unknown;
  let drained: { complete: boolean; waitedMs: number } | undefined;
  const timeline: Record<string, number> = { started };
  const collector = sc.sut.contract === 'attribution' ? new AttributionCollector() : undefined;
  let observedRecords = 0;
  let lagSampler: LagSampler | undefined;
  let lagSamples: LagSamples | undefined;
  try {
    if (!stack) {
      progress({ phase: 'run', message: `starting a ${sc.stack.brokers}-broker stack` });
      stack = await startStack({
        brokers: sc.stack.brokers,
        registry: sc.stack.registry,
        dir: join(outDir, 'stack'),
        progress,
      });
    }
    timeline.stackReady = Date.now();
    const inputTopic = `${sc.topics.input}`;
    const outputTopic = `${sc.topics.output}`;
    // Fresh topics per run would hide nothing but would leave clutter; a run owns its topics by name, so a reused
    // stack gets run-scoped names.
    const topicSuffix = ownStack ? '' : `.${runId}`;
    const input = `${inputTopic}${topicSuffix}`;
    const output = `${outputTopic}${topicSuffix}`;
    for (const t of [input, output]) {
      await ensureTopic(stack.bootstrap, t, { partitions: sc.stack.partitions, replicas: sc.stack.replicationFactor });
    }
    let schemaId = 0;
    const versionOf = new Map<number, 1 | 2 | 3>();
    if (sc.events.format === 'avro') {
      if (!stack.registryUrl)
        throw new StreamproofError('USAGE', 'events.format "avro" needs the schema registry (stack.registry: true)');
      const reg = new RegistryClient(stack.registryUrl);
      schemaId = await reg.register(`${input}-value`, EVENT_SCHEMAS[sc.events.schemaVersion]);
      versionOf.set(schemaId, sc.events.schemaVersion);
      // HTTP load: the collector encodes every event with the latest schema, whatever version its body had.
      if (sc.load.http && sc.events.schemaVersion !== 3)
        versionOf.set(await reg.register(`${input}-value`, EVENT_SCHEMAS[3]), 3);
    }

    progress({ phase: 'run', message: `starting the SUT: ${sc.sut.command} (${sc.sut.instances} instance(s))` });
    const sutEnv = {
      bootstrap: stack.proxiedBootstrap,
      inputTopic: input,
      outputTopic: output,
      groupId: `sut-${runId}`,
      transactionalId: `sut-${runId}`,
      registryUrl: stack.registryUrl,
      lakeDir: join(outDir, 'lake'),
    };
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
    if (sc.sut.ready === 'group') {
      await waitForGroup(stack.bootstrap, `sut-${runId}`, input, sc.stack.partitions, {
        timeoutMs: sc.sut.readyTimeoutMs,
        failFast: () => {
          const dead = theSut.instances.find((i) => !i.running());
          return dead ? sutFailed(dead, 'exited before it was ready') : undefined;
        },
      });
    }
    timeline.sutReady = Date.now();

    observer = await startObserver({
      bootstrap: stack.bootstrap,
      topic: output,
      history,
      decode: collector ? collector.decoder : eventDecoder(sc.events.format, (id) => versionOf.get(id)),
    });

    const ctx = stackFaultContext(stack, () => theSut.instances as readonly ProcessTarget[]);
    progress({
      phase: 'run',
      message: `load: ${describeStages(sc)} for ${sc.load.durationMs / 1000} s, ${sc.faults.length} fault(s)`,
    });
    const abort = new AbortController();
    let schedule: ReturnType<typeof runSchedule> | undefined;
    try {
      // The harness's load stands for the event sources: it writes on the direct path, so a fault on the SUT's
      // connections (sut->kafka) hits the pipeline, not the traffic offered to it.
      const stages = sc.load.stages.map((s) => ({ duration: s.durationMs, rate: s.from, endRate: s.to }));
      const generator = {
        seed,
        users: sc.events.users,
        format: sc.events.format,
        schemaId,
        schemaVersion: sc.events.schemaVersion,
      };
      const workers = opts.workers ?? sc.load.workers;
      // Several workers: each offers its slice (p % workers) and reports its History through the control topic; the
      // coordinator merges them into `history`, event for event what one process would have offered.
      const http = sc.load.http;
      const load = http
        ? startHttpLoad({
            url: http.target ?? `${sut.collectorUrl}/v1/events`,
            history,
            stages,
            generator: { seed, users: sc.events.users, schemaVersion: sc.events.schemaVersion },
            batch: http.batch,
            connections: http.connections,
            ...(http.token === undefined ? {} : { token: http.token }),
            timeoutMs: sc.load.acksTimeoutMs,
            progress,
          })
        : workers > 1
          ? coordinateLoad({
              bootstrap: stack.bootstrap,
              runId,
              topic: input,
              partitions: sc.stack.partitions,
              workers,
              load: {
                stages,
                producers: sc.load.producers,
                acksTimeoutMs: sc.load.acksTimeoutMs,
                client: sc.load.client,
                maxInFlightRequests: sc.load.inFlightRequests,
              },
              generator,
              history,
              ...(opts.spawnWorkers === undefined ? {} : { spawn: opts.spawnWorkers }),
              workerTimeoutMs: sc.load.workerTimeoutMs,
              replicas: sc.stack.replicationFactor,
              logDir: join(outDir, 'workers'),
              progress,
            })
          : startLoad({
              bootstrap: stack.bootstrap,
              topic: input,
              history,
              stages,
              producers: sc.load.producers,
              acksTimeoutMs: sc.load.acksTimeoutMs,
              client: sc.load.client,
              maxInFlightRequests: sc.load.inFlightRequests,
              generator,
              progress,
            });
      const { startTime } = await load.ready;
      timeline.loadStart = startTime;
      // Sampled until the output has drained (stopped in the outer finally); never fails the run.
      lagSampler = startLagSampler({
        bootstrap: stack.bootstrap,
        group: sutEnv.groupId,
        topic: input,
        partitions: sc.stack.partitions,
      });
      schedule = runSchedule(sc.faults, ctx, {
        start: startTime,
        seed,
        durationMs: sc.load.durationMs,
        record: (r) => history.record(r),
        signal: abort.signal,
      });
      loadSummary = await load.done;
      timeline.loadEnd = Date.now();
      faultReport = await schedule;
    } finally {
      abort.abort();
      await schedule?.catch(() => undefined);
      await healAll(ctx).catch((err: unknown) => notes.push(`healAll: ${(err as Error).message}`));
      timeline.healed = Date.now();
    }

    // The stack itself must have survived: a dead Toxiproxy took every SUT connection with it, a dead broker is not
    // a fault we injected. Either way the run says nothing about the pipeline: verdict unknown.
    const st = stack.status();
    if (!alive(st.toxiproxy.pid)) {
      throw new StreamproofError(
        'STACK_START_FAILED',
        `toxiproxy (pid ${st.toxiproxy.pid}) died during the run; see ${join(st.dir, 'toxiproxy.log')}`,
      );
    }
    const deadBrokers = st.kafka.brokers.filter((b) => !b.running);
    if (deadBrokers.length) {
      throw new StreamproofError(
        'STACK_START_FAILED',
        `broker(s) ${deadBrokers.map((b) => b.id).join(', ')} died during the run; see ${deadBrokers[0]!.log}`,
      );
    }

    progress({ phase: 'run', message: `draining: waiting for the output to be quiet for ${sc.drain.quietMs} ms` });
    const drainStart = Date.now();
    const complete = await observer.waitQuiet(sc.drain.quietMs, drainStart + sc.drain.timeoutMs);
    history.record({ kind: 'drain', time: Date.now(), complete });
    if (collector) {
      progress({ phase: 'run', message: 'reading the input back and running the attribution model over it' });
      await collector.finish({
        bootstrap: stack.bootstrap,
        inputTopic: input,
        format: sc.events.format,
        versionOf: (id) => versionOf.get(id),
        history,
      });
    }
    drained = { complete, waitedMs: Date.now() - drainStart };
    timeline.drained = Date.now();

    const crashed = sut.instances.flatMap((i) =>
      i.unexpectedExits.map((e) => `${i.name} exited by itself (code ${e.code}, signal ${e.signal})`),
    );
    notes.push(...crashed);
  } catch (err) {
    harnessError =
      err instanceof StreamproofError
        ? err
        : new StreamproofError('INTERNAL', `the run failed: ${(err as Error)?.stack ?? err}`);
  } finally {
    observedRecords = observer?.count ?? 0;
    lagSamples = await lagSampler?.stop().catch(() => undefined);
    await observer?.stop().catch(() => undefined);
    await sut?.stop().catch(() => undefined);
    if (ownStack) await stack?.stop().catch(() => undefined);
  }

  if (!harnessError) {
    // Copy: the output is the input, checked event by event. Attribution: the output is compared with the model
    // over what really landed in the input; order, latency and SLOs are per conversion.
    const contractChecker = collector
      ? attribution(
          () => collector.expected,
          () => collector.observed,
          { creditTolerance: 1e-9 },
        )
      : exactlyOnce();
    composed = runCheckers(history, [contractChecker, order({ keyAffinity: true }), schema(), latency(), slo(sc.slo)]);
    const lists = collector ? composed.results.attribution : listExactlyOnceAnomalies(history);
    writeFileSync(join(outDir, 'anomalies.json'), `${JSON.stringify(lists, null, 1)}\n`);
  }
  await saveHistory(join(outDir, 'history.json'), history);
  const result = buildResult({
    scenario: sc,
    seed,
    outDir,
    replay: replayCommand(opts, seed),
    versions: { kafka: versions.kafka, toxiproxy: versions.toxiproxy, node: process.versions.node },
    timeline,
    finished: Date.now(),
    history,
    composed,
    harnessError,
    load: loadSummary,
    faults: faultReport,
    drain: drained,
    notes,
    observedRecords: observedRecords,
    lag: lagResult(lagSamples, history.latency.series(), notes),
  });
  writeRunReports(outDir, result);
  writeFileSync(join(outDir, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

function describeStages(sc: Scenario): string {
  return sc.load.stages.map((s) => (s.from === s.to ? `${s.from}/s` : `${s.from}->${s.to}/s`)).join(', ');
}

function replayCommand(opts: RunOptions, seed: number): string {
  const base = opts.replayBase ?? `streamproof run ${opts.scenarioFile ?? `<scenario ${opts.scenario.name}>`}`;
  return `${base} --seed ${seed}`;
}
