/**
 * `streamproof generate`, run as a user runs it (`node bin/streamproof.js generate ...`): bad input exits 64 naming
 * the flag; stdout carries NDJSON or length-prefixed Avro frames that decode to the seed's events; and, on a real
 * stack, records land in a topic keyed by user_id with Confluent-framed values under the registered schema id.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Consumer } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBulkGenerator } from '../generators/bulk.ts';
import { decodeAvro, decodeConfluent, decodeJson, EVENT_SCHEMAS } from '../generators/schemas.ts';
import { closeNow } from '../harness/kafka/clients.ts';
import { RegistryClient } from '../harness/registry/client.ts';
import { type StartedStack, startStack } from '../harness/stack/stack.ts';

const bin = fileURLToPath(new URL('../bin/streamproof.js', import.meta.url));

interface Run {
  code: number;
  stdout: Buffer;
  stderr: string;
}

function cli(args: string[], timeoutMs = 120_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { encoding: 'buffer', maxBuffer: 256 << 20, timeout: timeoutMs },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        resolve({ code, stdout, stderr: stderr.toString() });
      },
    );
  });
}

/** Splits stdout of `--format avro`: u32 BE key length, key, u32 BE value length, value; per record. */
function frames(buf: Buffer): { key: Buffer; value: Buffer }[] {
  const out: { key: Buffer; value: Buffer }[] = [];
  let p = 0;
  while (p < buf.length) {
    const kl = buf.readUInt32BE(p);
    const key = buf.subarray(p + 4, p + 4 + kl);
    p += 4 + kl;
    const vl = buf.readUInt32BE(p);
    out.push({ key, value: buf.subarray(p + 4, p + 4 + vl) });
    p += 4 + vl;
  }
  expect(p).toBe(buf.length);
  return out;
}

describe('streamproof generate: bad input', () => {
  const cases: [string, string[], RegExp][] = [
    ['negative count', ['--count', '-5'], /--count: expected an integer >= 0/],
    ['non-integer count', ['--count', '2.5'], /--count: expected an integer/],
    ['count not a number', ['--count', 'many'], /--count: expected an integer/],
    ['missing count', [], /--count: required/],
    ['unknown format', ['--count', '3', '--format', 'xml'], /--format: expected avro or json, got "xml"/],
    ['unknown schema version', ['--count', '3', '--schema-version', '4'], /--schema-version: expected one of 1, 2, 3/],
    ['empty topic name', ['--count', '3', '--to', 'topic:'], /--to: "topic:" is not a valid topic target/],
    ['bad topic name', ['--count', '3', '--to', 'topic:a b'], /--to: .*topic:NAME/],
    ['unknown target scheme', ['--count', '3', '--to', 'kafka:events'], /--to: unknown target "kafka:"/],
    ['a directory as file', ['--count', '3', '--to', '/tmp/'], /--to: expected stdout, a FILE path or topic:NAME/],
    ['users out of range', ['--count', '3', '--users', '0'], /--users: expected an integer >= 1/],
    ['bad bootstrap', ['--count', '3', '--to', 'topic:t', '--bootstrap', 'nohost'], /--bootstrap: expected HOST:PORT/],
    ['bad registry', ['--count', '3', '--registry', 'ftp://x'], /--registry: expected an http\(s\) URL/],
    ['unknown flag', ['--count', '3', '--colour'], /Unknown option '--colour'/],
  ];
  it.concurrent.each(cases)('%s: exit 64, the message names the flag', async (_name, args, message) => {
    const r = await cli(['generate', ...args]);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(64);
    expect(r.stdout.length).toBe(0);
  });
});

describe('streamproof generate: stdout', () => {
  it('json: NDJSON lines, the seed replays the same events as the library', async () => {
    const r = await cli(['generate', '--count', '300', '--seed', '7', '--users', '50', '--schema-version', '2']);
    expect(r.code).toBe(0);
    const lines = r.stdout.toString().split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(300);
    const gen = createBulkGenerator({ seed: 7, users: 50, schemaVersion: 2, format: 'json' });
    const batch = gen.nextBatch(300);
    for (const [i, line] of lines.entries()) {
      expect(decodeJson(line, 2)).toEqual(gen.eventAt(i));
      expect(line).toBe(batch.value(i).toString());
    }
    const again = await cli(['generate', '--count', '300', '--seed', '7', '--users', '50', '--schema-version', '2']);
    expect(again.stdout.equals(r.stdout)).toBe(true);
  });

  it('avro: length-prefixed frames of key and Confluent-framed value (id = schema version without a registry)', async () => {
    const r = await cli(['generate', '--count', '200', '--seed', '9', '--format', 'avro', '--schema-version', '1']);
    expect(r.code).toBe(0);
    const records = frames(r.stdout);
    expect(records).toHaveLength(200);
    const gen = createBulkGenerator({ seed: 9, schemaVersion: 1 });
    for (const [i, { key, value }] of records.entries()) {
      const { schemaId, body } = decodeConfluent(value);
      expect(schemaId).toBe(1);
      const e = decodeAvro(body, 1);
      expect(e).toEqual(gen.eventAt(i));
      expect(key.toString()).toBe(e.user_id);
    }
  });

  it('--count 0 writes nothing and succeeds', async () => {
    const r = await cli(['generate', '--count', '0']);
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(0);
  });
});

describe('streamproof generate: to a topic on a real stack', () => {
  let stack: StartedStack;
  beforeAll(async () => {
    stack = await startStack({ brokers: 1 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('produces keyed, Confluent-framed Avro with the registered schema id; reads back and decodes', async () => {
    const topic = `generated-${randomUUID()}`;
    const count = 2000;
    const r = await cli([
      'generate',
      '--count',
      String(count),
      '--seed',
      '11',
      '--users',
      '200',
      '--to',
      `topic:${topic}`,
      '--bootstrap',
      stack.bootstrap,
      '--registry',
      stack.registryUrl!,
      '--json',
    ]);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout.toString()) as { count: number; schemaId: number; subject: string };
    expect(summary).toMatchObject({ count, subject: `${topic}-value` });

    const registry = new RegistryClient(stack.registryUrl!);
    expect(JSON.parse(await registry.schemaById(summary.schemaId))).toMatchObject({
      name: EVENT_SCHEMAS[3].name,
      fields: expect.arrayContaining([expect.objectContaining({ name: 'consent' })]),
    });

    const got = await readAll(stack.bootstrap, topic, count);
    expect(got).toHaveLength(count);
    const gen = createBulkGenerator({ seed: 11, users: 200, schemaVersion: 3 });
    const expected = gen.nextBatch(count);
    const byId = new Map<string, { key: string; event: unknown }>();
    for (let i = 0; i < count; i++)
      byId.set(expected.eventId(i), { key: expected.userId(i), event: expected.event(i) });
    const lastUserSeq = new Map<string, number>();
    for (const m of got) {
      const { schemaId, body } = decodeConfluent(m.value);
      expect(schemaId).toBe(summary.schemaId);
      const e = decodeAvro(body, 3);
      expect(m.key.toString()).toBe(e.user_id);
      expect(e).toEqual(byId.get(e.event_id)?.event);
      byId.delete(e.event_id);
      // keyed by user: one partition per user, so per-user order survives
      expect(e.user_seq).toBeGreaterThan(lastUserSeq.get(e.user_id) ?? -1);
      lastUserSeq.set(e.user_id, e.user_seq);
    }
    expect(byId.size).toBe(0);
  });
});

async function readAll(
  bootstrap: string,
  topic: string,
  count: number,
  timeoutMs = 30_000,
): Promise<{ key: Buffer; value: Buffer }[]> {
  const consumer = new Consumer({
    clientId: 'generate-test',
    groupId: `generate-test-${randomUUID()}`,
    bootstrapBrokers: [bootstrap],
    maxWaitTime: 200,
    timeout: 10_000,
  });
  const got: { key: Buffer; value: Buffer }[] = [];
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
    const timer = setTimeout(() => void stream.close(), timeoutMs);
    try {
      for await (const m of stream) {
        got.push({ key: m.key as Buffer, value: m.value as Buffer });
        if (got.length >= count) break;
      }
    } finally {
      clearTimeout(timer);
      await stream.close().catch(() => {});
    }
  } finally {
    await closeNow(consumer);
  }
  return got;
}
