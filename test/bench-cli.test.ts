/**
 * `streamproof bench producer --json` through the CLI, on the stack it starts itself: the document has the shape the
 * issue asks for (`producer.ours.recordsPerSec`, `producer.kafka.recordsPerSec`, `producer.ratio`, the machine),
 * both rates are real (> 0), the ratio is ours / kafka, and our records really landed: every event acked, and each
 * repetition's fresh topic holds exactly the records sent (sum of its end offsets), as does Kafka's. No timing
 * thresholds: the machine is shared. Bad flags exit 64 naming the flag, before any stack starts.
 * And the fast sender as a run uses it (`startLoad({ client: 'fast' })`, through Toxiproxy): what was acked is read
 * back exactly (read_committed), each record where Kafka's partitioner puts its key, and the run's own checkers
 * (exactly-once, order) pass on the History the driver wrote.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Consumer } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeAvro, decodeConfluent } from '../generators/schemas.ts';
import { checkExactlyOnce, checkOrder } from '../harness/checkers/index.ts';
import { History } from '../harness/history/index.ts';
import { closeNow, ensureTopic } from '../harness/kafka/clients.ts';
import { partitionForKey, startLoad } from '../harness/load/index.ts';
import { type StartedStack, startStack } from '../harness/stack/stack.ts';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'bin', 'streamproof.js');

function bench(args: string[], timeout = 600_000) {
  const res = spawnSync(process.execPath, [cli, 'bench', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout,
    env: { ...process.env, CI: 'true' },
  });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

describe('streamproof bench (CLI)', () => {
  it('bench producer --json: ours vs ProducerPerformance on one stack, every record acked and in the topic', () => {
    const records = 20_000;
    const r = bench(['producer', '--json', '--records', String(records)]);
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(Object.keys(doc).sort()).toEqual(['command', 'machine', 'producer']);
    const { ours, kafka, ratio } = doc.producer;
    for (const [name, side] of [
      ['ours', ours],
      ['kafka', kafka],
    ]) {
      for (const k of ['recordsPerSec', 'mbPerSec', 'p50Ms', 'p95Ms', 'p99Ms', 'maxMs']) {
        expect(typeof side[k], `${name}.${k}`).toBe('number');
      }
      expect(side.recordsPerSec).toBeGreaterThan(0);
      expect(side.mbPerSec).toBeGreaterThan(0);
      expect(side.p50Ms).toBeLessThanOrEqual(side.p99Ms);
      expect(side.records).toBe(records);
      // Three repetitions each (the default), alternating, each on a fresh topic holding exactly the records sent.
      expect(side.reps).toHaveLength(3);
      expect(
        side.topicRecords,
        `${name}: records in each repetition's topic; ours' errors ${JSON.stringify(ours.errors)}`,
      ).toEqual([records, records, records]);
    }
    expect(ratio).toBeCloseTo(ours.recordsPerSec / kafka.recordsPerSec, 9);
    expect(ours.sent).toBe(3 * records);
    expect(ours.acked).toBe(ours.sent);
    expect(ours.failed + ours.unknown).toBe(0);
    expect(doc.producer.recordSize).toBe(100);
    expect(doc.machine).toMatchObject({ kafka: '4.1.1' });
    for (const k of ['cpus', 'model', 'memory', 'node', 'java']) expect(doc.machine[k], k).toBeTruthy();
    // Progress went to stderr, the document alone to stdout.
    expect(r.stderr).toContain('producer rep 1/3');
  });

  it.each([
    [['--records', 'many'], '--records'],
    [['--record-size', '10'], '--record-size'],
    [['--reps', '0'], '--reps'],
    [['--seconds', '-1'], '--seconds'],
    [['--stack', 'elsewhere'], '--stack'],
    [['--partitions', '1000'], '--partitions'],
    [['--no-such-flag'], '--no-such-flag'],
    [['nosuch'], 'nosuch'],
  ])('bad usage %j exits 64 naming %s', (args, named) => {
    const r = bench(args, 60_000);
    expect(r.code, r.stderr).toBe(64);
    expect(r.stderr).toContain(named);
    expect(r.stdout).toBe('');
  });
});

describe("the fast sender under startLoad (client: 'fast')", () => {
  let stack: StartedStack;
  beforeAll(async () => {
    stack = await startStack({ brokers: 1, registry: false });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('20 000 events at 10 000/s through Toxiproxy: all acked, read back exactly, exactly-once and order pass', async () => {
    const partitions = 6;
    const topic = `fast-${randomUUID()}`;
    await ensureTopic(stack.bootstrap, topic, { partitions });
    const history = new History();
    const offered = new Set<string>();
    const recorder = {
      record(r: Parameters<History['record']>[0]) {
        if (r.kind === 'offered') offered.add(r.eventId);
        history.record(r);
      },
    } as unknown as History;
    const sum = await startLoad({
      bootstrap: stack.proxiedBootstrap,
      topic,
      history: recorder,
      generator: { seed: 5, users: 3000 },
      rate: 10_000,
      duration: '2s',
      producers: 2,
      client: 'fast',
    }).done;
    expect(sum.offered).toBe(20_000);
    expect(sum.acked).toBe(20_000);
    expect(sum.failed + sum.unknown).toBe(0);
    expect(sum.ackFromOfferLatency?.count).toBe(20_000);

    const consumer = new Consumer({
      clientId: 'fast-test-reader',
      groupId: `fast-test-${randomUUID()}`,
      bootstrapBrokers: [stack.bootstrap],
      maxWaitTime: 200,
      timeout: 10_000,
    });
    const ids: string[] = [];
    try {
      const stream = await consumer.consume({
        topics: [topic],
        mode: 'earliest',
        autocommit: false,
        isolationLevel: 1,
      });
      const timer = setTimeout(() => void stream.close(), 60_000);
      try {
        for await (const m of stream) {
          const key = (m.key as Buffer).toString('latin1');
          const e = decodeAvro(decodeConfluent(m.value as Buffer).body, 3);
          expect(e.user_id).toBe(key);
          expect(m.partition).toBe(partitionForKey(Buffer.from(key, 'latin1'), partitions));
          ids.push(e.event_id);
          history.record({
            kind: 'observed',
            time: Date.now(),
            eventId: e.event_id,
            key,
            partition: m.partition,
            offset: Number(m.offset),
            userSeq: e.user_seq,
            sentAt: e.sent_at,
          });
          if (ids.length >= 20_000) break;
        }
      } finally {
        clearTimeout(timer);
        await stream.close().catch(() => {});
      }
    } finally {
      await closeNow(consumer);
    }
    history.record({ kind: 'drain', time: Date.now(), complete: ids.length >= 20_000 });
    expect(ids).toHaveLength(20_000);
    expect(new Set(ids)).toEqual(offered);
    const eo = checkExactlyOnce(history);
    expect(eo.valid).toBe(true);
    expect(eo.counts).toMatchObject({ lost: 0, duplicated: 0, unexpected: 0 });
    expect(checkOrder(history).valid).toBe(true);
  });
});
