/**
 * The peer a user would pick for `bench pipeline`: Kafka Streams with `exactly_once_v2` and default settings copying
 * the input to an output topic (examples/kafka-streams-copier), run through the harness itself (a copy certification
 * with the fast load driver on the bench's broker), at the rates the reference pipeline was measured at. The peer
 * copies; the reference pipeline also decodes Avro, folds a model and writes a changelog: the comparison is what a
 * stream processor that does nothing costs on the same box.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runScenario } from '../runner/run.ts';
import { validateScenario } from '../runner/scenario.ts';
import type { StartedStack } from '../stack/stack.ts';
import type { Progress } from '../util/progress.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLE = join(root, 'examples', 'kafka-streams-copier');

export interface PeerPoint {
  offeredPerSec: number;
  /** Records the harness offered and the broker acked, and the copies it observed (read_committed). */
  acked: number;
  observed: number;
  verdict: string;
  /** The run's checkers found nothing and the e2e p95 stayed under the sustained bound. */
  keptUp: boolean;
  latencyMs: { p50: number; p95: number; p99: number; max: number } | null;
  lost: number;
  duplicated: number;
}

export interface PeerBench {
  name: string;
  sut: string;
  points: PeerPoint[];
}

/** Why the peer cannot run here (not built), or null. */
export function peerMissing(): string | null {
  if (existsSync(join(EXAMPLE, 'target', 'classpath.txt')) && existsSync(join(EXAMPLE, 'target', 'classes'))) {
    return null;
  }
  return 'examples/kafka-streams-copier is not built: run `node scripts/build-examples.mjs kafka-streams-copier` (Maven)';
}

export async function benchPeer(
  stack: StartedStack,
  o: {
    rates: number[];
    seconds: number;
    partitions: number;
    sustainedP95Ms: number;
    outDir: string;
    progress: Progress;
  },
): Promise<PeerBench> {
  const sut = `${join(EXAMPLE, 'run.sh')} exactly-once`;
  const points: PeerPoint[] = [];
  for (const rate of o.rates) {
    o.progress({ phase: 'bench', message: `pipeline: peer (Kafka Streams exactly_once_v2 copy) at ${rate}/s` });
    const r = await runScenario({
      scenario: validateScenario({
        name: `bench-peer-${rate}`,
        description: 'bench pipeline peer: Kafka Streams exactly_once_v2 copy, default settings',
        sut: { command: sut, contract: 'copy', instances: 1 },
        stack: { brokers: 1, partitions: o.partitions },
        events: { format: 'json', users: 20_000, seed: 1 },
        load: { rate, duration: `${o.seconds}s`, producers: rate > 20_000 ? 3 : 1, client: 'fast' },
        drain: { quiet: '3s', timeout: '60s' },
      }),
      stack,
      outDir: join(o.outDir, `peer-${rate}`),
    });
    const e = r.latency.e2e;
    const latencyMs =
      e === null || e.p95Ms === null
        ? null
        : { p50: e.p50Ms ?? 0, p95: e.p95Ms, p99: e.p99Ms ?? e.p95Ms, max: e.maxMs ?? e.p95Ms };
    points.push({
      offeredPerSec: rate,
      acked: r.counts.acked,
      observed: r.counts.observed,
      verdict: r.verdict,
      keptUp: r.verdict === 'pass' && latencyMs !== null && latencyMs.p95 <= o.sustainedP95Ms,
      latencyMs,
      lost: r.counts.lost,
      duplicated: r.counts.duplicated,
    });
  }
  return { name: 'Kafka Streams 4.1.1 copy, exactly_once_v2, default settings', sut, points };
}
