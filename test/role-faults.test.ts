/**
 * Faults aimed at Kafka's roles, on a real 3-broker stack (combined KRaft nodes): for each role target the broker the
 * fault hit is the one that held the role at that moment, as Kafka's own command-line tools tell the test
 * (`kafka-topics.sh --describe`, `kafka-metadata-quorum.sh describe --status`, `kafka-consumer-groups.sh --describe
 * --state`, `kafka-transactions.sh describe`): another client and another code path than the code under test.
 * `leader-move` moves a partition's leader to another in-sync replica and its heal moves it back. One stack for the
 * file.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Producer, stringSerializers } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ActiveFault,
  applyFault,
  type FaultContext,
  type FaultSpec,
  stackFaultContext,
} from '../harness/faults/index.ts';
import { closeNow, ensureTopic } from '../harness/kafka/clients.ts';
import { runScenario } from '../harness/runner/run.ts';
import { validateScenario } from '../harness/runner/scenario.ts';
import { findJava } from '../harness/stack/java.ts';
import { kafkaDir } from '../harness/stack/provision.ts';
import { type StartedStack, startStack } from '../harness/stack/stack.ts';
import { versions } from '../harness/stack/versions.ts';

const run = promisify(execFile);
let stack: StartedStack;
let ctx: FaultContext;
let java: string;
const id = randomUUID().slice(0, 8);
const topic = `roles-${id}`;
const groupId = `sut-roles-${id}`;
const transactionalId = `sut-roles-${id}`;

// Kafka's command-line tools, by their main classes (what kafka-topics.sh & co. run), from the stack's own install.
const TOOLS = {
  'kafka-topics.sh': 'org.apache.kafka.tools.TopicCommand',
  'kafka-metadata-quorum.sh': 'org.apache.kafka.tools.MetadataQuorumCommand',
  'kafka-consumer-groups.sh': 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
  'kafka-transactions.sh': 'org.apache.kafka.tools.TransactionsCommand',
} as const;

/** Runs one of Kafka's own tools against the stack; its stdout. */
async function kafkaTool(tool: keyof typeof TOOLS, args: string[]): Promise<string> {
  const jvm = ['-Xmx256m', '-XX:TieredStopAtLevel=1', '-cp', `${join(kafkaDir(), 'libs')}/*`, TOOLS[tool]];
  const { stdout } = await run(java, [...jvm, '--bootstrap-server', stack.bootstrap, ...args], { timeout: 60_000 });
  return stdout;
}

/** Partition -> leader and replicas, from `kafka-topics.sh --describe`. */
async function describeTopic(): Promise<Map<number, { leader: number; replicas: number[] }>> {
  const out = await kafkaTool('kafka-topics.sh', ['--describe', '--topic', topic]);
  const m = new Map<number, { leader: number; replicas: number[] }>();
  for (const line of out.split('\n')) {
    const x = /Partition:\s*(\d+)\s+Leader:\s*(-?\d+)\s+Replicas:\s*([\d,]+)/.exec(line);
    if (x) m.set(Number(x[1]), { leader: Number(x[2]), replicas: x[3]!.split(',').map(Number) });
  }
  return m;
}

beforeAll(async () => {
  const found = await findJava(versions.minJava);
  if (!found) throw new Error('no Java for the Kafka tools');
  java = found.bin;
  stack = await startStack({ brokers: 3 });
  await ensureTopic(stack.bootstrap, topic, { partitions: 3, replicas: 3 });
  ctx = stackFaultContext(
    stack,
    () => [],
    () => ({}),
    { groupId, transactionalId, outputTopic: topic },
  );
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

const spec = (kind: string, target: string, extra: Record<string, unknown> = {}): FaultSpec =>
  ({ at: 0, kind, target, ...extra }) as FaultSpec;

async function applied(s: FaultSpec, body: (f: ActiveFault) => Promise<void> = async () => {}): Promise<ActiveFault> {
  const f = await applyFault(s, ctx);
  try {
    await body(f);
  } finally {
    await f.heal();
  }
  return f;
}

describe('role targets resolve to the broker that holds the role', () => {
  it('leader:<topic>/<p> (pause) and sut->leader:<topic>/<p> (latency): the partition leader kafka-topics.sh shows', async () => {
    const before = await describeTopic();
    const paused = await applied(spec('pause', `leader:${topic}/1`, { for: '1s' }));
    const latency = await applied(spec('latency', `sut->leader:${topic}/2`, { for: '1s', latencyMs: 10 }));
    const after = await describeTopic();
    // The leaders did not move meanwhile (else the comparison would be meaningless).
    expect(after.get(1)?.leader).toBe(before.get(1)?.leader);
    expect(after.get(2)?.leader).toBe(before.get(2)?.leader);
    expect(paused.resolved).toEqual({ role: `leader:${topic}/1`, brokerId: before.get(1)!.leader });
    expect(paused.targets).toEqual([`broker:${before.get(1)!.leader}`]);
    expect(latency.resolved).toEqual({ role: `leader:${topic}/2`, brokerId: before.get(2)!.leader });
    expect(latency.targets).toEqual([`broker-${before.get(2)!.leader}`]);
    expect(stack.toxiproxy).toBeDefined();
  });

  it('controller: the active controller kafka-metadata-quorum.sh shows (not Metadata controller id)', async () => {
    const status = await kafkaTool('kafka-metadata-quorum.sh', ['describe', '--status']);
    const leader = Number(/LeaderId:\s*(\d+)/.exec(status)?.[1]);
    const f = await applied(spec('partition', 'sut->controller', { for: '1s' }));
    expect(f.resolved).toEqual({ role: 'controller', brokerId: leader });
    expect(f.targets).toEqual([`broker-${leader}`]);
  });

  it('group-coordinator: the coordinator kafka-consumer-groups.sh shows for the SUT group', async () => {
    // The group exists once it has offsets: made with Kafka's tool too.
    await kafkaTool('kafka-consumer-groups.sh', [
      '--group',
      groupId,
      '--topic',
      topic,
      '--reset-offsets',
      '--to-earliest',
      '--execute',
    ]);
    const state = await kafkaTool('kafka-consumer-groups.sh', ['--describe', '--group', groupId, '--state']);
    // GROUP  COORDINATOR (ID)  ASSIGNMENT-STRATEGY  STATE  #MEMBERS
    const coordinator = Number(/\((\d+)\)/.exec(state.split('\n').find((l) => l.startsWith(groupId)) ?? '')?.[1]);
    const f = await applied(spec('partition', 'sut->group-coordinator', { for: '1s' }));
    expect(f.resolved).toEqual({ role: 'group-coordinator', brokerId: coordinator });
  });

  it('txn-coordinator: the coordinator kafka-transactions.sh shows for the SUT transactional id; none yet fails', async () => {
    await expect(applyFault(spec('partition', 'sut->txn-coordinator', { for: '1s' }), ctx)).rejects.toMatchObject({
      code: 'FAULT_APPLY_FAILED',
      message: expect.stringMatching(/no transactional id of the SUT is known to the cluster yet/),
    });
    const txId = `${transactionalId}-0`;
    const producer = new Producer({
      clientId: 'roles-tx',
      bootstrapBrokers: [stack.bootstrap],
      serializers: stringSerializers,
      acks: -1,
      idempotent: true,
      transactionalId: txId,
      producerId: -1n,
      producerEpoch: -1,
      timeout: 20_000,
      retryDelay: 100,
    });
    try {
      const tx = await producer.beginTransaction();
      await tx.send({ messages: [{ topic, key: 'k', value: 'v' }] });
      await tx.commit();
    } finally {
      await closeNow(producer);
    }
    const described = await kafkaTool('kafka-transactions.sh', ['describe', '--transactional-id', txId]);
    // CoordinatorId  TransactionalId  ProducerId ...
    const row = described.split('\n').find((l) => l.includes(txId)) ?? '';
    const coordinator = Number(row.trim().split(/\s+/)[0]);
    const f = await applied(spec('pause', 'txn-coordinator', { for: '1s' }));
    expect(f.resolved).toEqual({ role: 'txn-coordinator', brokerId: coordinator });
    expect(f.targets).toEqual([`broker:${coordinator}`]);
  });
});

describe('leader-move', () => {
  it('moves the leader to another in-sync replica, and its heal moves it back', async () => {
    const before = (await describeTopic()).get(0)!;
    let during: { leader: number; replicas: number[] } | undefined;
    const f = await applied(spec('leader-move', `leader:${topic}/0`, { for: '1s' }), async () => {
      during = (await describeTopic()).get(0);
    });
    const after = (await describeTopic()).get(0)!;
    expect(f.resolved?.brokerId).toBe(before.leader);
    expect(during!.leader).not.toBe(before.leader);
    expect(during!.leader).toBe(f.resolved?.movedTo);
    expect(during!.replicas[0]).toBe(during!.leader);
    expect(after.replicas).toEqual(before.replicas);
    expect(after.leader).toBe(before.replicas[0]);
    expect(f.healed).toBe(true);
  });
});

describe('in a run', () => {
  it('the fault records name the broker each role fault hit (a transactional copier, which still passes)', async () => {
    const sc = validateScenario({
      name: 'rolerun',
      sut: { command: 'node --import tsx test/fixtures/copiers/transactional.ts', contract: 'copy' },
      stack: { brokers: 3, partitions: 3, replicationFactor: 3 },
      events: { format: 'json', users: 100, seed: 3 },
      // The harness's producer waits out its request timeout on the partition whose leader moved (it does not follow
      // NOT_LEADER_OR_FOLLOWER at once): a short acksTimeout keeps the run short (those events are `unknown`).
      load: { rate: 200, duration: '6s', acksTimeout: '5s' },
      faults: [
        { at: '1s', for: '1s', kind: 'latency', target: 'sut->leader:events/0', latencyMs: 20, name: 'slow-leader' },
        { at: '2s', for: '2s', kind: 'leader-move', target: 'leader:events/1', name: 'move' },
        { at: '3s', for: '1s', kind: 'latency', target: 'sut->txn-coordinator', latencyMs: 20, name: 'slow-txn' },
      ],
      drain: { quiet: '3s', timeout: '60s' },
    });
    const r = await runScenario({ scenario: sc, outDir: mkdtempSync(join(tmpdir(), 'streamproof-roles-')), stack });
    expect(r.error).toBeNull();
    // On a reused stack the run's topics are `events.<run id>`: `leader:events/0` named the run's own.
    const list = await kafkaTool('kafka-topics.sh', ['--list']);
    const input = list.split('\n').find((t) => t.startsWith('events.rolerun-'))!;
    const out = await kafkaTool('kafka-topics.sh', ['--describe', '--topic', input]);
    const leaders = new Map(
      [...out.matchAll(/Partition:\s*(\d+)\s+Leader:\s*(\d+)\s+Replicas:\s*([\d,]+)/g)].map((m) => [Number(m[1]), m]),
    );
    const txns = await kafkaTool('kafka-transactions.sh', ['list']);
    // TransactionalId  Coordinator  ProducerId  TransactionState
    const txn = txns
      .split('\n')
      .find((l) => l.startsWith('sut-rolerun-'))!
      .trim()
      .split(/\s+/);
    const target = (id: string) => r.faults.find((f) => f.faultId === id)?.target;
    expect(target('slow-leader')).toBe(`sut->leader:events/0 → broker:${leaders.get(0)![2]}`);
    // Healed: partition 1 is back to its first replica, which led it before the move.
    expect(leaders.get(1)![2]).toBe(leaders.get(1)![3]!.split(',')[0]);
    expect(target('move')).toMatch(
      new RegExp(`^leader:events/1 → broker:${leaders.get(1)![2]} \\(moved to broker:\\d\\)$`),
    );
    expect(target('slow-txn')).toBe(`sut->txn-coordinator → broker:${txn[1]}`);
    expect(r.faults.every((f) => f.healedAt !== null)).toBe(true);
    expect(r.verdict).toBe('pass');
  });
});
