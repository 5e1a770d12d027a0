/**
 * The stack, for real: brokers, Toxiproxy and the registry started by the harness, exercised through the proxied
 * and the direct paths.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import SchemaRegistryPkg from '@kafkajs/confluent-schema-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerIds, closeNow, ensureTopic } from '../harness/kafka/clients.ts';
import { RegistryClient } from '../harness/registry/client.ts';
import { type StartedStack, startStack } from '../harness/stack/stack.ts';
import { outcome, produce, readN } from './helpers.ts';

const { SchemaRegistry } = SchemaRegistryPkg as unknown as {
  SchemaRegistry: typeof import('@kafkajs/confluent-schema-registry').SchemaRegistry;
};

describe('one-broker stack', () => {
  let stack: StartedStack;
  beforeAll(async () => {
    stack = await startStack({ brokers: 1 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('status has every endpoint, and the proxied address is what metadata advertises', async () => {
    const s = stack.status();
    expect(s.kafka.version).toMatch(/^4\.\d+\.\d+$/);
    expect(s.kafka.brokers).toHaveLength(1);
    expect(s.kafka.brokers[0]!.proxied).toBe(s.kafka.proxiedBootstrap);
    expect(s.toolsClasspath).toMatch(/\/\*$/);
    expect(s.registry?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/apis\/ccompat\/v7$/);
    const proxies = await stack.toxiproxy.getAll();
    expect(Object.keys(proxies)).toEqual(['broker-1']);
  });

  it('a record round-trips through the proxied bootstrap', async () => {
    const topic = `rt-${randomUUID()}`;
    await ensureTopic(stack.bootstrap, topic, { partitions: 3 });
    const value = randomUUID();
    await produce(stack.proxiedBootstrap, topic, [{ key: 'user-1', value }]);
    const got = await readN(stack.proxiedBootstrap, topic, 1);
    expect(got.map((r) => r.value)).toEqual([value]);
  });

  it('disabling the broker proxy stalls a proxied client while a direct client still works; re-enabling heals', async () => {
    const topic = `part-${randomUUID()}`;
    await ensureTopic(stack.bootstrap, topic, { partitions: 1 });
    const proxy = await stack.toxiproxy.get('broker-1');
    await proxy.update({ listen: proxy.listen, upstream: proxy.upstream, enabled: false });
    try {
      const proxied = await outcome(
        produce(stack.proxiedBootstrap, topic, [{ key: 'k', value: 'through-proxy' }], {
          timeoutMs: 2000,
          retries: false,
        }),
        8000,
      );
      expect(proxied).not.toBe('ok');
      await produce(stack.bootstrap, topic, [{ key: 'k', value: 'direct' }]);
    } finally {
      await proxy.update({ listen: proxy.listen, upstream: proxy.upstream, enabled: true });
    }
    await produce(stack.proxiedBootstrap, topic, [{ key: 'k', value: 'after-heal' }]);
    const got = await readN(stack.bootstrap, topic, 2);
    expect(got.map((r) => r.value)).toEqual(['direct', 'after-heal']);
  });

  it('a timeout toxic on the proxy stalls proxied reads while direct reads still work', async () => {
    const topic = `tox-${randomUUID()}`;
    await ensureTopic(stack.bootstrap, topic, { partitions: 1 });
    await produce(stack.bootstrap, topic, [{ key: 'k', value: 'v' }]);
    const proxy = await stack.toxiproxy.get('broker-1');
    const toxic = await proxy.addToxic({
      name: 'stall',
      type: 'timeout',
      stream: 'downstream',
      toxicity: 1,
      attributes: { timeout: 0 },
    });
    try {
      const proxied = await outcome(
        readN(stack.proxiedBootstrap, topic, 1, 4000).then((r) => {
          if (r.length === 0) throw new Error('nothing read');
        }),
        10_000,
      );
      expect(proxied).not.toBe('ok');
      expect((await readN(stack.bootstrap, topic, 1)).map((r) => r.value)).toEqual(['v']);
    } finally {
      await toxic.remove();
    }
  });

  it('registry: register with a Confluent client, fetch by id, and a compatibility check', async () => {
    const url = stack.registryUrl!;
    const subject = `it-${randomUUID()}-value`;
    const v1 = { type: 'record', name: 'User', namespace: 'it', fields: [{ name: 'id', type: 'long' }] };
    const v2bad = { ...v1, fields: [...v1.fields, { name: 'email', type: 'string' }] };
    const v2ok = { ...v1, fields: [...v1.fields, { name: 'email', type: 'string', default: '' }] };
    const confluent = new SchemaRegistry({ host: url });
    const { id } = await confluent.register({ type: 'AVRO' as never, schema: JSON.stringify(v1) } as never, {
      subject,
    });
    expect(id).toBeGreaterThan(0);
    const encoded = await confluent.encode(id, { id: 42 });
    expect(encoded[0]).toBe(0);
    expect(encoded.readUInt32BE(1)).toBe(id);
    expect(await confluent.decode(encoded)).toEqual({ id: 42 });

    const rest = new RegistryClient(url);
    expect(JSON.parse(await rest.schemaById(id))).toEqual(v1);
    await rest.setCompatibility(subject, 'BACKWARD');
    expect(await rest.compatibility(subject)).toBe('BACKWARD');
    expect(await rest.isCompatible(subject, v2bad)).toBe(false);
    expect(await rest.isCompatible(subject, v2ok)).toBe(true);
    await expect(rest.register(subject, v2bad)).rejects.toThrow(/409/);
    expect(await rest.register(subject, v2ok)).not.toBe(id);
  });

  it('an outside client (kcat, librdkafka) produces and consumes through proxiedBootstrap', async (ctx) => {
    let have = true;
    try {
      execFileSync('kcat', ['-V'], { stdio: 'ignore' });
    } catch {
      have = false;
    }
    if (!have) {
      if (process.env.CI) throw new Error('kcat is not installed; .ci/run installs it (apt-get install kcat)');
      ctx.skip();
    }
    const topic = `kcat-${randomUUID()}`;
    await ensureTopic(stack.bootstrap, topic, { partitions: 2 });
    const value = randomUUID();
    execFileSync('kcat', ['-P', '-b', stack.proxiedBootstrap, '-t', topic, '-k', 'user-7', '-X', 'acks=all'], {
      input: `${value}\n`,
    });
    const out = execFileSync(
      'kcat',
      ['-C', '-b', stack.proxiedBootstrap, '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%k %s\n'],
      {
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(out.trim()).toBe(`user-7 ${value}`);
    const meta = execFileSync('kcat', ['-L', '-b', stack.proxiedBootstrap], { encoding: 'utf8' });
    // kcat learned the broker address from metadata: it must be the proxy's, not the broker's own port.
    expect(meta).toContain(`broker 1 at ${stack.proxiedBootstrap}`);
  });
});

describe('three-broker stack', () => {
  let stack: StartedStack;
  beforeAll(async () => {
    stack = await startStack({ brokers: 3 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('topics default to RF 3 and min.insync.replicas 2; acks=all writes go on after one broker is killed', async () => {
    expect(await brokerIds(stack.bootstrap)).toEqual([1, 2, 3]);
    const topic = `rf3-${randomUUID()}`;
    // auto-created by the broker with its defaults
    await produce(stack.proxiedBootstrap, topic, [{ key: 'a', value: 'before' }], { autocreateTopics: true });
    const desc = execFileSync(
      'java',
      [
        '-cp',
        stack.status().toolsClasspath,
        'org.apache.kafka.tools.TopicCommand',
        '--bootstrap-server',
        stack.bootstrap,
        '--describe',
        '--topic',
        topic,
      ],
      { encoding: 'utf8' },
    );
    expect(desc).toMatch(/ReplicationFactor: 3/);
    expect(desc).toMatch(/min\.insync\.replicas=2/);

    await stack.broker(2).kill();
    expect(stack.broker(2).running()).toBe(false);
    // Leaders on broker 2 move once the controller misses its heartbeats (broker.session.timeout.ms, 9 s by
    // default): until then writes to its partitions fail, so the client tries again, as an application would.
    const t0 = Date.now();
    const records = Array.from({ length: 50 }, (_, i) => ({ key: `u${i}`, value: `after-${i}` }));
    let sent = false;
    while (!sent && Date.now() - t0 < 60_000) {
      sent =
        (await outcome(produce(stack.proxiedBootstrap, topic, records, { timeoutMs: 3000, retries: false }), 5000)) ===
        'ok';
    }
    expect(sent).toBe(true);
    console.log(`acks=all writes resumed ${Date.now() - t0} ms after broker 2 was killed`);
    const got = await readN(stack.proxiedBootstrap, topic, 51, 30_000);
    expect(got).toHaveLength(51);
    await stack.broker(2).start();
    expect(await brokerIds(stack.bootstrap)).toEqual([1, 2, 3]);
  });

  it('transactions work: committed records are visible read_committed, aborted ones are not', async () => {
    const topic = `txn-${randomUUID()}`;
    await ensureTopic(stack.bootstrap, topic, { partitions: 3, replicas: 3 });
    const { Producer, stringSerializers } = await import('@platformatic/kafka');
    const producer = new Producer({
      clientId: 'txn-test',
      bootstrapBrokers: [stack.proxiedBootstrap],
      serializers: stringSerializers,
      idempotent: true,
      acks: -1,
      transactionalId: `txn-${randomUUID()}`,
    });
    try {
      const aborted = await producer.beginTransaction();
      await aborted.send({ messages: [{ topic, key: 'k', value: 'aborted' }] });
      await aborted.abort();
      const committed = await producer.beginTransaction();
      await committed.send({ messages: [{ topic, key: 'k', value: 'committed' }] });
      await committed.commit();
    } finally {
      await closeNow(producer);
    }
    const got = await readN(stack.proxiedBootstrap, topic, 2, 8000);
    expect(got.map((r) => r.value)).toEqual(['committed']);
  });
});
