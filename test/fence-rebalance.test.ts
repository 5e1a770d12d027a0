/**
 * The `fence` and `rebalance` faults on the real stack, through runScenario with the exactly-once copiers:
 * - fence: the harness takes over a copier's transactional id; the copier's producer is really fenced (its log says
 *   so) and a correct copier recovers (the Node fixture starts a new session with a new producer; the Java copier,
 *   which exits on a fenced producer, leaves its partitions to the other instance): nothing lost or duplicated.
 * - rebalance: a harness member joins the copier's group (the test's own DescribeGroups sees it own partitions while
 *   the copier owns fewer) and leaves (the copier owns them all again); nothing lost or duplicated, for the Node and
 *   the Java copier. The same with Kafka's Java console consumer in a KIP-848 consumer group and in a classic
 *   cooperative-sticky group.
 * One shared stack; every run gets its own topics and group.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFault } from '../harness/faults/apply.ts';
import { sutKafka } from '../harness/faults/apply-group.ts';
import { stackFaultContext } from '../harness/faults/context.ts';
import { admin, ensureTopic } from '../harness/kafka/clients.ts';
import { describeGroup, type GroupDescription } from '../harness/kafka/groups.ts';
import type { RunResult } from '../harness/runner/result.ts';
import { runScenario } from '../harness/runner/run.ts';
import { validateScenario } from '../harness/runner/scenario.ts';
import { startSut } from '../harness/runner/sut.ts';
import { type StartedStack, startStack } from '../harness/stack/stack.ts';

const root = join(import.meta.dirname, '..');
const out = mkdtempSync(join(tmpdir(), 'streamproof-fence-'));
const javaBuilt = existsSync(join(root, 'examples/java-copier/target/classpath.txt'));

function scenario(name: string, command: string, faults: unknown[], instances = 1) {
  return validateScenario({
    name,
    sut: { command, contract: 'copy', instances },
    stack: { brokers: 1, partitions: 4 },
    events: { format: 'json', users: 200, seed: 11 },
    load: { rate: 300, duration: '12s' },
    faults,
    slo: { e2e_latency: ['p(95)<60s'] },
    drain: { quiet: '4s', timeout: '60s' },
  });
}

/** The copy contract held: everything acked was copied exactly once, in order; exit 0. */
function expectPass(r: RunResult) {
  const why = JSON.stringify({ error: r.error, counts: r.counts, notes: r.notes });
  expect(r.error, why).toBeNull();
  expect(r.counts, why).toMatchObject({ lost: 0, duplicated: 0, unexpected: 0, reordered: 0 });
  expect(r.counts.acked, why).toBe(r.counts.offered);
  expect(r.counts.observed, why).toBe(r.counts.acked);
  expect(r.verdict, why).toBe('pass');
  expect(r.exitCode, why).toBe(0);
}

/** Describes the run's group (found by its name prefix) every 250 ms until stopped. */
function watchGroup(stack: StartedStack, prefix: string) {
  const seen: { t: number; group: GroupDescription }[] = [];
  let stopped = false;
  const a = admin(stack.bootstrap, 'streamproof-test-watch');
  const loop = (async () => {
    let groupId: string | undefined;
    while (!stopped) {
      try {
        groupId ??= [...(await a.listGroups()).keys()].find((g) => g.startsWith(prefix));
        const group = groupId ? await describeGroup(stack.bootstrap, groupId, { timeoutMs: 2000 }) : undefined;
        if (group) seen.push({ t: Date.now(), group });
      } catch {
        // a describe during a rebalance can fail; the next one tells
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return {
    seen,
    async stop() {
      stopped = true;
      await loop;
      await a.close().catch(() => {});
    },
  };
}

/** Describes the group every 250 ms until `ok` says yes (30 s at most); the group then. */
async function waitGroup(stack: StartedStack, groupId: string, ok: (g: GroupDescription) => boolean) {
  const deadline = Date.now() + 30_000;
  let last: GroupDescription | undefined;
  while (Date.now() < deadline) {
    last = await describeGroup(stack.bootstrap, groupId).catch(() => last);
    if (last && ok(last)) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  const seen = last?.members.map((m) => `${m.clientId}:${[...(m.assignment?.values() ?? [])].flat().join(',')}`);
  throw new Error(`group ${groupId} never got there; last seen ${last?.state} ${JSON.stringify(seen)}`);
}

const NODE_COPIER = 'node --import tsx test/fixtures/copiers/transactional.ts';

describe('fence and rebalance faults on exactly-once copiers', () => {
  let stack: StartedStack;
  beforeAll(async () => {
    stack = await startStack({ brokers: 1 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('fence: the Node copier is fenced, starts a new session, and copies exactly once', async () => {
    const faults = [
      { at: '3s', kind: 'fence', target: 'sut:0', name: 'zombie-1' },
      { at: '8s', kind: 'fence', target: 'sut', name: 'zombie-2' },
    ];
    const dir = join(out, 'node-fence');
    const r = await runScenario({ scenario: scenario('fence-node', NODE_COPIER, faults), outDir: dir, stack });
    expectPass(r);
    const fences = r.faults.filter((f) => f.fault === 'fence');
    expect(fences.map((f) => f.faultId)).toEqual(['zombie-1', 'zombie-2']);
    for (const f of fences) {
      expect(f.healedAt).not.toBeNull();
      expect(f.detail?.summary).toMatch(/^fenced sut-fence-node-.*-0 \(epoch \d+\)$/);
    }
    // The copier's own account: the transaction failed because its producer was fenced, and it started again.
    const log = readFileSync(join(dir, 'sut', 'sut-0.log'), 'utf8');
    const failures = log.split('\n').filter((l) => l.includes('session failed'));
    expect(failures.length, log.slice(-3000)).toBeGreaterThanOrEqual(2);
    // Each failure is the fence: the producer told it was fenced, or its EndTxn racing the abort the fence started,
    // which Kafka 4 can answer with UNKNOWN_SERVER_ERROR or INVALID_TXN_STATE instead (the transaction was aborted
    // either way). At least one failure names the fence itself.
    const fencedError = /PRODUCER_FENCED|INVALID_PRODUCER_EPOCH/;
    for (const line of failures) {
      expect(line).toMatch(new RegExp(`${fencedError.source}|EndTxn.*(UNKNOWN_SERVER_ERROR|INVALID_TXN_STATE)`));
    }
    expect(
      failures.some((l) => fencedError.test(l)),
      log.slice(-3000),
    ).toBe(true);
  });

  it('rebalance: a harness member owns partitions for a while, the copier gets them back, exactly once', async () => {
    const faults = [{ at: '3s', kind: 'rebalance', target: 'sut', for: '4s', name: 'join' }];
    const watch = watchGroup(stack, 'sut-rebalance-node-');
    let r: RunResult;
    try {
      r = await runScenario({
        scenario: scenario('rebalance-node', NODE_COPIER, faults),
        outDir: join(out, 'node-rebalance'),
        stack,
      });
    } finally {
      await watch.stop();
    }
    expectPass(r);
    const fault = r.faults.find((f) => f.faultId === 'join');
    expect(fault?.healedAt).not.toBeNull();
    expect(fault?.detail?.summary).toMatch(
      /^member \S+ of sut-rebalance-node-\S+ \(generation \d+\) owned events\S*\/\d/,
    );
    const owners = watch.seen.map((s) =>
      s.group.members
        .map((m) => `${m.clientId}:${[...(m.assignment?.values() ?? [])].flat().length}`)
        .sort()
        .join(' '),
    );
    const summary = [...new Set(owners)].join(' | ');
    // The harness member joined and owned some of the 4 partitions while the copier owned the rest ...
    const during = watch.seen.findIndex((s) =>
      s.group.members.some((m) => m.clientId === 'streamproof-rebalance' && (m.assignment?.size ?? 0) > 0),
    );
    expect(during, summary).toBeGreaterThanOrEqual(0);
    // ... and after it left, the copier alone owned all 4 again.
    const after = watch.seen
      .slice(during)
      .some(
        (s) =>
          s.group.members.length === 1 && [...(s.group.members[0]!.assignment?.values() ?? [])].flat().length === 4,
      );
    expect(after, summary).toBe(true);
  });

  // Kafka's own Java consumer (the console consumer) as the group's only member: a KIP-848 consumer group, and a
  // classic group with the cooperative assignor (whose rebalances take two rounds the harness member must follow).
  it.each([
    ['a KIP-848 consumer group', 'group.protocol=consumer', 'consumer'],
    [
      'a classic cooperative-sticky group',
      'partition.assignment.strategy=org.apache.kafka.clients.consumer.CooperativeStickyAssignor',
      'classic',
    ],
  ])(
    'rebalance on %s of the Java client: the member owns partitions, then leaves them to it',
    async (_, prop, type) => {
      const id = `rebalance-${type}-${Date.now()}`;
      await ensureTopic(stack.bootstrap, id, { partitions: 4 });
      const cp = stack.status().toolsClasspath;
      const sut = await startSut({
        command: `exec java -Xms32m -Xmx160m -cp '${cp}' org.apache.kafka.tools.consumer.ConsoleConsumer --bootstrap-server "$STREAMPROOF_BOOTSTRAP_SERVERS" --topic "$STREAMPROOF_INPUT_TOPIC" --group "$STREAMPROOF_GROUP_ID" --consumer-property ${prop}`,
        instances: 1,
        env: {
          bootstrap: stack.bootstrap,
          inputTopic: id,
          outputTopic: id,
          groupId: id,
          transactionalId: id,
          registryUrl: undefined,
          lakeDir: join(out, id, 'lake'),
        },
        logDir: join(out, id),
      });
      try {
        const ownedBy = (g: GroupDescription, clientId: string) =>
          g.members.filter((m) => m.clientId === clientId).flatMap((m) => [...(m.assignment?.values() ?? [])].flat());
        await waitGroup(stack, id, (g) => ownedBy(g, 'console-consumer').length === 4);
        const ctx = stackFaultContext(stack);
        ctx.sutKafka = sutKafka({ bootstrap: stack.bootstrap, groupId: id, inputTopic: id, transactionalId: id });
        const f = await applyFault({ at: 0, kind: 'rebalance', target: 'sut', for: '5s' }, ctx);
        expect(f.targets[0]).toBe(`group:${id}`);
        const during = await waitGroup(
          stack,
          id,
          (g) =>
            g.state === 'Stable' &&
            ownedBy(g, 'streamproof-rebalance').length > 0 &&
            ownedBy(g, 'streamproof-rebalance').length + ownedBy(g, 'console-consumer').length === 4,
        );
        expect(during.type).toBe(type);
        await f.heal();
        expect(f.healed).toBe(true);
        const after = await waitGroup(
          stack,
          id,
          (g) => g.members.length === 1 && ownedBy(g, 'console-consumer').length === 4,
        );
        expect(after.members[0]!.clientId).toBe('console-consumer');
      } finally {
        await sut.stop();
      }
    },
  );

  it.skipIf(!javaBuilt)('rebalance: the Java copier hands partitions over and back, exactly once', async () => {
    const faults = [{ at: '3s', kind: 'rebalance', target: 'sut', for: '4s', name: 'join' }];
    const dir = join(out, 'java-rebalance');
    const r = await runScenario({
      scenario: scenario('rebalance-java', 'examples/java-copier/run.sh exactly-once', faults),
      outDir: dir,
      stack,
    });
    expectPass(r);
    expect(r.faults.find((f) => f.faultId === 'join')?.detail?.summary).toMatch(/ owned events\S*\/\d/);
    // The copier's own account: its partitions were revoked (the member joined) and assigned back (it left).
    const log = readFileSync(join(dir, 'sut', 'sut-0.log'), 'utf8');
    expect(log.match(/assigned \[/g)?.length ?? 0, log.slice(-3000)).toBeGreaterThanOrEqual(3);
  });

  it.skipIf(!javaBuilt)(
    'fence: the Java copier exits on its fenced producer; the other instance takes over, exactly once',
    async () => {
      const faults = [{ at: '4s', kind: 'fence', target: 'sut:0', name: 'zombie' }];
      const dir = join(out, 'java-fence');
      const r = await runScenario({
        scenario: scenario('fence-java', 'examples/java-copier/run.sh exactly-once', faults, 2),
        outDir: dir,
        stack,
      });
      expectPass(r);
      const log = readFileSync(join(dir, 'sut', 'sut-0.log'), 'utf8');
      expect(log, log.slice(-3000)).toMatch(/ProducerFencedException|InvalidProducerEpochException/);
      expect(r.notes.join('\n')).toMatch(/sut:0 exited by itself \(code 1/);
    },
  );
});
