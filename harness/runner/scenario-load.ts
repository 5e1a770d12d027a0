/**
 * What the runner offers the pipeline: the scenario's event schemas registered (Avro), and its load started, over
 * HTTP to the collector, split over worker processes, or from this process.
 */
import { join } from 'node:path';
import { EVENT_SCHEMAS } from '../../generators/schemas.ts';
import type { History } from '../history/index.ts';
import { startHttpLoad } from '../load/http.ts';
import { startLoad } from '../load/index.ts';
import { RegistryClient } from '../registry/client.ts';
import type { StartedStack } from '../stack/stack.ts';
import { StreamproofError } from '../util/errors.ts';
import type { Progress } from '../util/progress.ts';
import { coordinateLoad } from '../workers/coordinator.ts';
import type { Scenario } from './scenario.ts';

/**
 * The load for the scenario: over HTTP to the collector, split over worker processes, or one process. The harness's
 * load stands for the event sources: it writes on the direct path, so a fault on the SUT's connections
 * (sut->kafka) hits the pipeline, not the traffic offered to it.
 */
export function startScenarioLoad(
  sc: Scenario,
  x: {
    /** Load workers, overriding `load.workers`; how many of them this process starts. */
    workers: number | undefined;
    spawnWorkers: number | undefined;
    stack: StartedStack;
    sutUrl: string | undefined;
    input: string;
    runId: string;
    seed: number;
    schemaId: number;
    history: History;
    outDir: string;
    progress: Progress;
    signal: AbortSignal;
  },
) {
  const stages = sc.load.stages.map((s) => ({ duration: s.durationMs, rate: s.from, endRate: s.to }));
  // `events.bad` (resolved by the scenario's validation): the same slots in every process.
  const bad = sc.events.bad;
  const generator = {
    seed: x.seed,
    users: sc.events.users,
    format: sc.events.format,
    schemaId: x.schemaId,
    schemaVersion: sc.events.schemaVersion,
    ...(bad === undefined ? {} : { bad }),
  };
  const workers = x.workers ?? sc.load.workers;
  const http = sc.load.http;
  if (http) {
    return startHttpLoad({
      url: http.target ?? `${x.sutUrl}/v1/events`,
      history: x.history,
      stages,
      generator: {
        seed: x.seed,
        users: sc.events.users,
        schemaVersion: sc.events.schemaVersion,
        ...(bad === undefined ? {} : { bad }),
      },
      batch: http.batch,
      connections: http.connections,
      ...(http.token === undefined ? {} : { token: http.token }),
      timeoutMs: sc.load.acksTimeoutMs,
      progress: x.progress,
      signal: x.signal,
    });
  }
  if (workers > 1) {
    // Each worker offers its slice (p % workers) and reports its History through the control topic; the
    // coordinator merges them into `history`, event for event what one process would have offered.
    return coordinateLoad({
      bootstrap: x.stack.bootstrap,
      runId: x.runId,
      topic: x.input,
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
      history: x.history,
      ...(x.spawnWorkers === undefined ? {} : { spawn: x.spawnWorkers }),
      workerTimeoutMs: sc.load.workerTimeoutMs,
      replicas: sc.stack.replicationFactor,
      logDir: join(x.outDir, 'workers'),
      progress: x.progress,
    });
  }
  return startLoad({
    bootstrap: x.stack.bootstrap,
    topic: x.input,
    history: x.history,
    stages,
    producers: sc.load.producers,
    acksTimeoutMs: sc.load.acksTimeoutMs,
    client: sc.load.client,
    maxInFlightRequests: sc.load.inFlightRequests,
    generator,
    progress: x.progress,
    signal: x.signal,
  });
}

/** Registers the scenario's event schema (Avro), and the collector's latest one for HTTP load. */
export async function registerSchemas(
  sc: Scenario,
  stack: StartedStack,
  input: string,
): Promise<{ schemaId: number; versionOf: Map<number, 1 | 2 | 3> }> {
  const versionOf = new Map<number, 1 | 2 | 3>();
  if (sc.events.format !== 'avro') return { schemaId: 0, versionOf };
  if (!stack.registryUrl)
    throw new StreamproofError('USAGE', 'events.format "avro" needs the schema registry (stack.registry: true)');
  const reg = new RegistryClient(stack.registryUrl);
  const schemaId = await reg.register(`${input}-value`, EVENT_SCHEMAS[sc.events.schemaVersion]);
  versionOf.set(schemaId, sc.events.schemaVersion);
  // HTTP load: the collector encodes every event with the latest schema, whatever version its body had.
  if (sc.load.http && sc.events.schemaVersion !== 3)
    versionOf.set(await reg.register(`${input}-value`, EVENT_SCHEMAS[3]), 3);
  return { schemaId, versionOf };
}

/** The load's stages in words, e.g. `100/s, 100->500/s`. */
export function describeStages(sc: Scenario): string {
  return sc.load.stages.map((s) => (s.from === s.to ? `${s.from}/s` : `${s.from}->${s.to}/s`)).join(', ');
}
