/**
 * The harness survives the broker faults it injects itself, on a real 3-broker stack (RF 3, min.insync.replicas 2):
 * - the observer, reading while a partition leader under it is killed (and later restarted), reconnects and records
 *   every output record exactly once: its view equals a read-back of the topic (read_committed, another client);
 * - the reference pipeline under a broker kill and then a rolling restart of every broker: the run reaches a verdict
 *   (pass), nothing lost or duplicated, and the observer's count equals the read-back of the output topic.
 * One stack for the file; each test has its own topics.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Producer, stringSerializers } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyDecoder } from '../harness/contracts/copy.ts';
import { History } from '../harness/history/index.ts';
import { admin, closeNow, ensureTopic } from '../harness/kafka/clients.ts';
import { readTopic } from '../harness/kafka/read-topic.ts';
import { startObserver } from '../harness/runner/observer.ts';
import { runScenario } from '../harness/runner/run.ts';
import { validateScenario } from '../harness/runner/scenario.ts';
import { type StartedStack, startStack } from '../harness/stack/stack.ts';

let stack: StartedStack;
const out = mkdtempSync(join(tmpdir(), 'streamproof-broker-faults-'));

beforeAll(async () => {
  stack = await startStack({ brokers: 3 });
});

afterAll(async () => {
  await stack?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function leaderOf(topic: string, partition: number): Promise<number> {
  const a = admin(stack.bootstrap);
  try {
    const md = await a.metadata({ topics: [topic], forceUpdate: true });
    return md.topics.get(topic)!.partitions[partition]!.leader;
  } finally {
    await a.close();
  }
}

const key = (p: number, o: bigint | number) => `${p}/${o}`;

describe('the observer under a killed partition leader', () => {
  it('reconnects, and records every record of the topic exactly once (equal to a read-back)', async () => {
    const topic = `obs-${randomUUID().slice(0, 8)}`;
    await ensureTopic(stack.bootstrap, topic, { partitions: 4, replicas: 3 });
    const history = new History();
    const seen: string[] = [];
    const observer = await startObserver({
      bootstrap: stack.bootstrap,
      topic,
      history,
      decode: copyDecoder({ format: 'json', versionOf: () => undefined }),
      onRecord: (r) => seen.push(key(r.partition, r.offset)),
      // Replace the client at the first failed fetch: the reconnect path is what this test is about.
      reconnectAfterErrors: 1,
    });

    // A writer of its own: batches of 50 records, acks=all, a fresh producer after any error (as an application
    // retrying would). What it sends is not the point; what lands is read back below.
    let writing = true;
    let n = 0;
    let writeErrors = 0;
    const brokers = stack.status().kafka.brokers.map((b) => b.direct);
    const writer = (async () => {
      let producer: Producer<string, string, string, string> | undefined;
      while (writing) {
        producer ??= new Producer({
          clientId: 'bf-writer',
          bootstrapBrokers: brokers,
          serializers: stringSerializers,
          acks: -1,
          idempotent: true,
          timeout: 5000,
          retries: 5,
          retryDelay: 300,
        });
        const messages = Array.from({ length: 50 }, () => {
          const i = n++;
          return {
            topic,
            key: `u${i % 40}`,
            value: JSON.stringify({ event_id: `e${i}`, user_seq: i, sent_at: Date.now() }),
          };
        });
        try {
          await producer.send({ messages });
        } catch {
          writeErrors++;
          await closeNow(producer);
          producer = undefined;
        }
        await sleep(50);
      }
      if (producer) await closeNow(producer);
    })();

    try {
      await sleep(3000);
      const victim = await leaderOf(topic, 0);
      const countBefore = observer.count;
      expect(countBefore).toBeGreaterThan(0);
      await stack.broker(victim).kill();
      await sleep(12_000);
      await stack.broker(victim).start();
      await sleep(4000);
    } finally {
      writing = false;
      await writer;
    }
    const quiet = await observer.waitQuiet(3000, Date.now() + 60_000);
    expect(quiet).toBe(true);
    const notes = observer.notes();
    await observer.stop();

    const back = await readTopic(stack.bootstrap, topic, { quietMs: 3000 });
    const backKeys = back.map((r) => key(r.partition, r.offset)).sort();
    // The faults reached the observer (a failed fetch, a replaced client) and it rode them out.
    expect(observer.errors, notes.join('\n')).toBeGreaterThan(0);
    expect(observer.reconnects).toBeGreaterThan(0);
    // Exactly once: no (partition, offset) twice, and the same set as the read-back.
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual(backKeys);
    expect(observer.count).toBe(back.length);
    process.stderr.write(
      `observer: ${observer.count} records, ${observer.errors} errors, ${observer.reconnects} reconnects, writer errors ${writeErrors}\n${notes.join('\n')}\n`,
    );
  });
});

describe('the reference pipeline under broker faults', () => {
  it('broker:2 killed and restarted, then a rolling restart of all three: nothing lost or duplicated, the observer complete', async () => {
    const name = `bf-${randomUUID().slice(0, 6)}`;
    const scenario = validateScenario({
      name,
      sut: { command: 'reference', contract: 'attribution', instances: 2 },
      stack: { brokers: 3, partitions: 4 },
      topics: { input: `${name}-events`, output: `${name}-attributions` },
      events: { format: 'avro', users: 500, seed: 12 },
      load: { rate: 600, duration: '45s' },
      faults: [
        { at: '6s', kind: 'kill', target: 'broker:2', restartAfter: '5s', name: 'kill-2' },
        { at: '22s', kind: 'rolling-restart', target: 'brokers', name: 'roll' },
      ],
      slo: { e2e_latency: ['p(99)<60s'] },
      drain: { quiet: '5s', timeout: '120s' },
    });
    const started = Date.now();
    const r = await runScenario({ scenario, outDir: join(out, 'reference'), stack });
    const seconds = (Date.now() - started) / 1000;
    process.stderr.write(
      `reference under broker faults: ${r.verdict} in ${seconds.toFixed(0)} s; counts ${JSON.stringify(r.counts)}; notes:\n${r.notes.join('\n')}\n`,
    );
    expect(r.error, JSON.stringify(r.error)).toBeNull();
    // First the harness's part: the observer's view is complete (what reading the output topic back with
    // read_committed, through another client, gives), so a `lost` below is the pipeline's, not the observer's.
    const a = admin(stack.bootstrap);
    const topics = await a.listTopics().finally(() => a.close());
    const output = topics.find((t) => t.startsWith(`${name}-attributions.`));
    expect(output).toBeDefined();
    const back = await readTopic(stack.bootstrap, output!, { quietMs: 3000 });
    expect(new Set(back.map((x) => key(x.partition, x.offset))).size).toBe(back.length);
    expect(r.counts.observed).toBe(back.length);
    // Then the pipeline's: nothing lost or duplicated.
    expect(r.counts).toMatchObject({ lost: 0, duplicated: 0, unexpected: 0, undecodable: 0 });
    // Both faults happened and healed; the rolling restart touched every broker.
    expect(r.faults.map((f) => `${f.faultId} ${f.fault} healed:${f.healedAt !== null}`).sort()).toEqual([
      'kill-2 kill healed:true',
      'roll rolling-restart healed:true',
    ]);
    expect(stack.status().kafka.brokers.every((b) => b.running)).toBe(true);
    // Every invariant holds; only the latency SLO (p99 < 60 s) may be breached on this 2-core machine: two attributors
    // catching up after a broker kill and three controlled shutdowns once took longer than that for over 1 % of the
    // records (exit 2, an SLO breach, never an invariant failure).
    const invariants = Object.entries(r.checkers).filter(([name]) => name !== 'slo');
    expect(
      invariants.every(([, c]) => c.valid === true),
      JSON.stringify(r.checkers),
    ).toBe(true);
    expect(['pass', 'slo-breach']).toContain(r.verdict);
  });
});
