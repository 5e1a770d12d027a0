/**
 * SUT readiness on the real stack, for consumer groups of every client the harness meets: Kafka's own Java
 * ConsoleConsumer (classic protocol with range, cooperative-sticky, static membership; and the KIP-848 consumer
 * protocol), librdkafka (kcat), kafkajs and @platformatic/kafka. Then the log, http and tcp strategies, a timeout, an
 * exit before ready, and a group that owns only some partitions.
 *
 * Regression: @platformatic/kafka 1.35's Admin.describeGroups crashed the harness (uncaught TypeError in
 * readUnsignedVarInt) on the Java client's assignment, whose null user data is ff ff ff ff.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, ensureTopic } from '../harness/kafka/clients.ts';
import { describeGroup, type GroupDescription } from '../harness/kafka/groups.ts';
import { type LagSamples, startLagSampler } from '../harness/runner/lag.ts';
import { groupReadiness, type ReadyStrategy, waitReady } from '../harness/runner/ready.ts';
import { type StartedSut, startSut } from '../harness/runner/sut.ts';
import { type StartedStack, startStack } from '../harness/stack/stack.ts';
import { StreamproofError } from '../harness/util/errors.ts';
import { produce } from './helpers.ts';

const PARTITIONS = 3;
const READY_TIMEOUT_MS = 90_000;

let stack: StartedStack;
let dir: string;
let consoleConsumer: string;
let kafkajsScript: string;
let platformaticScript: string;

beforeAll(async () => {
  stack = await startStack({ brokers: 1, registry: false });
  dir = mkdtempSync(join(tmpdir(), 'readiness-'));
  const cp = stack.status().toolsClasspath;
  consoleConsumer =
    `exec java -Xms32m -Xmx160m -cp '${cp}' org.apache.kafka.tools.consumer.ConsoleConsumer ` +
    '--bootstrap-server "$STREAMPROOF_BOOTSTRAP_SERVERS" --topic "$STREAMPROOF_INPUT_TOPIC" --group "$STREAMPROOF_GROUP_ID"';

  // Consumers of the two Node clients, as SUT scripts (resolved from this repository's dependencies).
  const require = createRequire(import.meta.url);
  kafkajsScript = join(dir, 'kafkajs-consumer.cjs');
  writeFileSync(
    kafkajsScript,
    `const { Kafka, logLevel } = require(${JSON.stringify(require.resolve('kafkajs'))});
const kafka = new Kafka({ clientId: 'kafkajs-sut', brokers: [process.env.STREAMPROOF_BOOTSTRAP_SERVERS], logLevel: logLevel.WARN });
const consumer = kafka.consumer({ groupId: process.env.STREAMPROOF_GROUP_ID });
(async () => {
  await consumer.connect();
  await consumer.subscribe({ topic: process.env.STREAMPROOF_INPUT_TOPIC, fromBeginning: true });
  await consumer.run({ eachMessage: async () => {} });
  console.log('kafkajs consumer running');
})().catch((err) => { console.error(err); process.exit(1); });
process.on('SIGTERM', () => consumer.disconnect().finally(() => process.exit(0)));
`,
  );
  platformaticScript = join(dir, 'platformatic-consumer.mjs');
  writeFileSync(
    platformaticScript,
    `import { Consumer, stringDeserializers } from ${JSON.stringify(import.meta.resolve('@platformatic/kafka'))};
const consumer = new Consumer({
  clientId: 'platformatic-sut',
  groupId: process.env.STREAMPROOF_GROUP_ID,
  bootstrapBrokers: [process.env.STREAMPROOF_BOOTSTRAP_SERVERS],
  deserializers: stringDeserializers,
  maxWaitTime: 500,
});
const stream = await consumer.consume({ topics: [process.env.STREAMPROOF_INPUT_TOPIC], mode: 'earliest' });
console.log('platformatic consumer running');
process.on('SIGTERM', () => consumer.close(true).finally(() => process.exit(0)));
for await (const _ of stream) {}
`,
  );
});

afterAll(async () => {
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

let seq = 0;

/** A fresh input topic and group, the SUT started on the proxied bootstrap with the env contract. */
async function startOne(
  name: string,
  command: string,
  opts: { instances?: number; partitions?: number } = {},
): Promise<{ sut: StartedSut; topic: string; groupId: string }> {
  seq++;
  const topic = `ready-${name}-${seq}`;
  const groupId = `sut-${name}-${randomUUID()}`;
  await ensureTopic(stack.bootstrap, topic, { partitions: opts.partitions ?? PARTITIONS });
  const sut = await startSut({
    command,
    instances: opts.instances ?? 1,
    env: {
      bootstrap: stack.proxiedBootstrap,
      inputTopic: topic,
      outputTopic: `${topic}-out`,
      groupId,
      transactionalId: groupId,
      registryUrl: undefined,
      lakeDir: join(dir, `lake-${seq}`),
    },
    logDir: join(dir, `sut-${seq}`),
  });
  return { sut, topic, groupId };
}

/** Start the SUT, wait with the group strategy, return the group as it is when ready. */
async function readyGroup(
  name: string,
  command: string,
  opts: {
    instances?: number;
    whileRunning?: (x: { topic: string; groupId: string; sut: StartedSut }) => Promise<void>;
  } = {},
): Promise<{ group: GroupDescription; topic: string }> {
  const x = await startOne(name, command, opts);
  try {
    await waitReady('group', {
      bootstrap: stack.bootstrap,
      groupId: x.groupId,
      topic: x.topic,
      partitions: PARTITIONS,
      instances: x.sut.instances,
      timeoutMs: READY_TIMEOUT_MS,
    });
    // Ready means Stable and covering every partition, which the first member to join may achieve alone; for the
    // assertions on members, wait until every instance has joined (one member each) and the group is Stable again.
    const group = await settled(x.groupId, x.topic, opts.instances ?? 1);
    await opts.whileRunning?.(x);
    return { group, topic: x.topic };
  } finally {
    await x.sut.stop();
  }
}

async function settled(groupId: string, topic: string, members: number): Promise<GroupDescription> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const g = await describeGroup(stack.bootstrap, groupId);
    if (g && g.state === 'Stable' && g.members.length === members && owned(g, topic).length === PARTITIONS) return g;
    if (Date.now() > deadline)
      throw new Error(`group ${groupId} did not settle with ${members} member(s): ${JSON.stringify(g)}`);
    await sleep(250);
  }
}

function owned(group: GroupDescription, topic: string): number[] {
  return group.members.flatMap((m) => m.assignment?.get(topic) ?? []).sort((a, b) => a - b);
}

async function rejection(p: Promise<unknown>): Promise<StreamproofError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(StreamproofError);
    return err as StreamproofError;
  }
  throw new Error('expected a rejection');
}

describe('group readiness for every client', () => {
  it('Java classic, range, two members (the assignment that crashed @platformatic/kafka 1.35); then NOT ready once the topic has partitions the group does not own', async () => {
    const { group, topic } = await readyGroup(
      'java-range',
      `${consoleConsumer} --consumer-property partition.assignment.strategy=org.apache.kafka.clients.consumer.RangeAssignor`,
      {
        instances: 2,
        whileRunning: async ({ topic: t, groupId, sut }) => {
          // Six partitions now; the members learn of the new ones only at their next metadata refresh (5 min).
          const a = admin(stack.bootstrap);
          try {
            await a.createPartitions({ topics: [{ name: t, count: 6 }] });
          } finally {
            await a.close();
          }
          const now = await groupReadiness(stack.bootstrap, groupId, t, 6);
          expect(now.ready).toBe(false);
          expect(now.seen).toContain('in state Stable, 2 member(s), owning 3 of 6 partitions');
          expect(now.seen).toContain('(missing 3-5)');
          const err = await rejection(
            waitReady('group', {
              bootstrap: stack.bootstrap,
              groupId,
              topic: t,
              partitions: 6,
              instances: sut.instances,
              timeoutMs: 1500,
            }),
          );
          expect(err.code).toBe('TIMEOUT');
          expect(err.message).toContain(`own all 6 partitions of ${t}; last seen: group ${groupId} (classic, range)`);
          expect(err.message).toContain('--- last 20 lines of sut:1');
        },
      },
    );
    expect(group).toMatchObject({ type: 'classic', state: 'Stable', protocolType: 'consumer', protocol: 'range' });
    expect(group.members).toHaveLength(2);
    expect(group.members.every((m) => m.clientId === 'console-consumer' && m.instanceId === null)).toBe(true);
    expect(owned(group, topic)).toEqual([0, 1, 2]);
  });

  it('Java classic, cooperative-sticky', async () => {
    const { group, topic } = await readyGroup(
      'java-coop',
      `${consoleConsumer} --consumer-property partition.assignment.strategy=org.apache.kafka.clients.consumer.CooperativeStickyAssignor`,
    );
    expect(group).toMatchObject({ type: 'classic', state: 'Stable', protocol: 'cooperative-sticky' });
    expect(owned(group, topic)).toEqual([0, 1, 2]);
  });

  it('Java classic, static membership (group.instance.id), two members', async () => {
    const { group, topic } = await readyGroup(
      'java-static',
      `${consoleConsumer} --consumer-property group.instance.id=static-$STREAMPROOF_INSTANCE`,
      { instances: 2 },
    );
    expect(group).toMatchObject({ type: 'classic', state: 'Stable' });
    expect(group.members.map((m) => m.instanceId).sort()).toEqual(['static-0', 'static-1']);
    expect(owned(group, topic)).toEqual([0, 1, 2]);
  });

  it('Java, KIP-848 consumer protocol (group.protocol=consumer): described by ConsumerGroupDescribe', async () => {
    const { group, topic } = await readyGroup(
      'java-848',
      `${consoleConsumer} --consumer-property group.protocol=consumer --consumer-property auto.commit.interval.ms=200`,
      {
        // Lag (harness/runner/lag.ts) reads committed offsets with OffsetFetch, which the coordinator answers the
        // same for every group type: the KIP-848 group's commits are seen, and the lag drains to 0.
        whileRunning: async ({ topic: t, groupId }) => {
          await produce(
            stack.bootstrap,
            t,
            Array.from({ length: 9 }, (_, i) => ({ key: `user-${i}`, value: `v${i}` })),
          );
          const deadline = Date.now() + 30_000;
          let last: LagSamples | undefined;
          while (Date.now() < deadline) {
            const sampler = startLagSampler({
              bootstrap: stack.bootstrap,
              group: groupId,
              topic: t,
              partitions: PARTITIONS,
              intervalMs: 200,
            });
            await sleep(1000);
            last = await sampler.stop();
            if (last.sawCommit && last.series.at(-1)?.lag === 0) break;
          }
          expect(last?.sawCommit).toBe(true);
          expect(last?.series.at(-1)?.lag).toBe(0);
        },
      },
    );
    expect(group).toMatchObject({ type: 'consumer', brokerType: 'consumer', state: 'Stable' });
    expect(group.members).toHaveLength(1);
    expect(owned(group, topic)).toEqual([0, 1, 2]);
  });

  it('librdkafka (kcat -G)', async () => {
    const kcat = findKcat();
    const { group, topic } = await readyGroup(
      'kcat',
      `exec ${kcat} -b "$STREAMPROOF_BOOTSTRAP_SERVERS" -G "$STREAMPROOF_GROUP_ID" -X client.id=kcat-sut "$STREAMPROOF_INPUT_TOPIC"`,
    );
    expect(group).toMatchObject({ type: 'classic', state: 'Stable', protocolType: 'consumer' });
    expect(group.members[0]?.clientId).toBe('kcat-sut');
    expect(owned(group, topic)).toEqual([0, 1, 2]);
  });

  it('kafkajs', async () => {
    const { group, topic } = await readyGroup('kafkajs', `exec node ${kafkajsScript}`);
    expect(group).toMatchObject({ type: 'classic', state: 'Stable', protocolType: 'consumer' });
    expect(group.members[0]?.clientId).toBe('kafkajs-sut');
    expect(owned(group, topic)).toEqual([0, 1, 2]);
  });

  it('@platformatic/kafka', async () => {
    const { group, topic } = await readyGroup('platformatic', `exec node ${platformaticScript}`);
    expect(group).toMatchObject({ type: 'classic', state: 'Stable', protocolType: 'consumer' });
    expect(group.members[0]?.clientId).toBe('platformatic-sut');
    expect(owned(group, topic)).toEqual([0, 1, 2]);
  });
});

describe('other strategies on real processes', () => {
  const wait = (strategy: ReadyStrategy, x: { sut: StartedSut; topic: string; groupId: string }, timeoutMs: number) =>
    waitReady(strategy, {
      bootstrap: stack.bootstrap,
      groupId: x.groupId,
      topic: x.topic,
      partitions: PARTITIONS,
      instances: x.sut.instances,
      timeoutMs,
    });

  it('log: a line of every instance log matches', async () => {
    const x = await startOne(
      'log',
      'echo booting instance $STREAMPROOF_INSTANCE; sleep $((1 + STREAMPROOF_INSTANCE)); echo "pipeline ready on $STREAMPROOF_INPUT_TOPIC"; exec sleep 600',
      { instances: 2 },
    );
    try {
      const started = Date.now();
      await wait({ log: '^pipeline ready on ready-log-' }, x, 30_000);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1500); // instance 1 says it after 2 s
    } finally {
      await x.sut.stop();
    }
  });

  it('http: answers 2xx', async () => {
    const port = await freePort();
    const x = await startOne(
      'http',
      `exec node -e "setTimeout(() => require('node:http').createServer((q, s) => { s.statusCode = q.url === '/health' ? 200 : 404; s.end(); }).listen(${port}, '127.0.0.1', () => console.log('listening')), 1000)"`,
    );
    try {
      await wait({ http: `http://127.0.0.1:${port}/health` }, x, 30_000);
      const err = await rejection(wait({ http: `http://127.0.0.1:${port}/other` }, x, 500));
      expect(err.message).toContain(
        `waited for http://127.0.0.1:${port}/other to answer 2xx; last seen: last answer 404`,
      );
    } finally {
      await x.sut.stop();
    }
  });

  it('tcp: accepts a connection, by port and by host:port', async () => {
    const port = await freePort();
    const x = await startOne(
      'tcp',
      `exec node -e "setTimeout(() => require('node:net').createServer((s) => s.end()).listen(${port}, '127.0.0.1'), 1000)"`,
    );
    try {
      await wait({ tcp: port }, x, 30_000);
      await wait({ tcp: `127.0.0.1:${port}` }, x, 5000);
    } finally {
      await x.sut.stop();
    }
  });

  it('a timeout names what it waited for and shows the log tail', async () => {
    const x = await startOne(
      'timeout',
      'echo "connecting to $STREAMPROOF_BOOTSTRAP_SERVERS"; echo "waiting for config"; exec sleep 600',
    );
    try {
      const err = await rejection(wait('group', x, 3000));
      expect(err.code).toBe('TIMEOUT');
      expect(err.message).toContain(
        `SUT not ready after 3000 ms: waited for the SUT's consumer group ${x.groupId} to be Stable and own all 3 partitions of ${x.topic}; last seen: no group ${x.groupId} on its coordinator yet`,
      );
      expect(err.message).toMatch(
        /--- last 20 lines of sut:0 \(.*sut-0\.log\) ---\nconnecting to 127\.0\.0\.1:\d+\nwaiting for config$/,
      );
    } finally {
      await x.sut.stop();
    }
  });

  it('an instance that exits before it is ready fails the wait at once, with its exit code and log', async () => {
    const x = await startOne('exits', 'echo "fatal: no such topic" >&2; sleep 1; exit 3');
    try {
      const started = Date.now();
      const err = await rejection(wait('group', x, READY_TIMEOUT_MS));
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(err.code).toBe('STACK_START_FAILED');
      expect(err.message).toMatch(
        /^sut:0 exited \(exit code 3\) before it was ready, after \d+ ms of waiting for the SUT's consumer group/,
      );
      expect(err.message).toContain('fatal: no such topic');
    } finally {
      await x.sut.stop();
    }
  });
});

function findKcat(): string {
  for (const bin of ['kcat', 'kafkacat']) {
    try {
      execFileSync(bin, ['-V'], { stdio: 'ignore' });
      return bin;
    } catch {
      // try the next name
    }
  }
  throw new Error('kcat is not installed (apt-get install kcat)');
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
