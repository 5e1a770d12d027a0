/** Kafka's ProducerPerformance: the reference ceiling on the same broker (harness/bench/producer-performance.ts). */
import { type ProducerPerformanceResult, runProducerPerformance } from '../../harness/bench/producer-performance.ts';
import type { StartedStack } from '../../harness/stack/stack.ts';
import { VALUE_BYTES } from './records.ts';
import { phaseTimeout } from './tools.ts';

export type JavaResult = ProducerPerformanceResult;

export async function javaProducerPerformance(stack: StartedStack, topic: string, n: number): Promise<JavaResult> {
  return runProducerPerformance({
    classpath: stack.status().toolsClasspath,
    bootstrap: stack.bootstrap,
    topic,
    records: n,
    recordSize: VALUE_BYTES,
    timeoutMs: phaseTimeout(n),
  });
}
