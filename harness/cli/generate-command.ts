/**
 * `streamproof generate`: the bulk generator's events, to stdout, a file or a Kafka topic.
 *
 *   json  -> NDJSON: one event per line (the canonical JSON of docs/generators.md)
 *   avro  -> to stdout/FILE: length-prefixed frames, per record
 *              u32 big-endian key length, key bytes (user_id, ASCII),
 *              u32 big-endian value length, value bytes (Confluent-framed Avro: 0, u32 BE schema id, body);
 *            the schema id is the registry's when --registry is given, else the schema version (1, 2 or 3).
 *            Refused when stdout is a terminal.
 *         -> to topic:NAME: records with key = user_id and the Confluent-framed value, the schema registered under
 *            subject NAME-value.
 *
 * Everything replays from --seed. Progress goes to stderr (at most once a second); the summary to stdout as text,
 * or one JSON document with --json (to stderr as one JSON line when stdout carries the events).
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { Producer } from '@platformatic/kafka';
import { createBulkGenerator } from '../../generators/bulk.ts';
import { SCHEMA_VERSIONS, type SchemaVersion } from '../../generators/event.ts';
import { EVENT_SCHEMAS } from '../../generators/schemas.ts';
import { brokerIds, closeNow, ensureTopic } from '../kafka/clients.ts';
import { RegistryClient } from '../registry/client.ts';
import { readState } from '../stack/daemon.ts';
import { StreamproofError } from '../util/errors.ts';
import { intFlag, parse } from './args.ts';
import { type Command, output } from './command.ts';

const FORMATS = ['avro', 'json'] as const;
type Format = (typeof FORMATS)[number];
const BATCH = 16_384;
const NL = 0x0a;

type Target = { kind: 'stdout' } | { kind: 'file'; path: string } | { kind: 'topic'; topic: string };

export interface GenerateSummary {
  /** Events written (fewer than `requested` only when the reader of stdout went away). */
  count: number;
  requested: number;
  seed: number;
  format: Format;
  schemaVersion: SchemaVersion;
  users: number;
  to: string;
  schemaId: number | null;
  subject: string | null;
  bytes: number;
  seconds: number;
  eventsPerSec: number;
}

/** Kafka topic names: [a-zA-Z0-9._-], 1..249 characters (Kafka's own rule). */
const TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;

function target(raw: string | undefined): Target {
  if (raw === undefined || raw === 'stdout' || raw === '-') return { kind: 'stdout' };
  if (raw.startsWith('topic:')) {
    const topic = raw.slice('topic:'.length);
    if (!TOPIC.test(topic) || topic === '.' || topic === '..') {
      throw new StreamproofError(
        'USAGE',
        `--to: "${raw}" is not a valid topic target; expected topic:NAME with NAME of 1-249 characters from [a-zA-Z0-9._-]`,
      );
    }
    return { kind: 'topic', topic };
  }
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(raw);
  if (scheme) {
    throw new StreamproofError(
      'USAGE',
      `--to: unknown target "${scheme[1]}:" in "${raw}"; expected stdout, a FILE path or topic:NAME (write ./${raw} for a file of that name)`,
    );
  }
  if (raw === '' || raw.endsWith('/')) {
    throw new StreamproofError('USAGE', `--to: expected stdout, a FILE path or topic:NAME, got "${raw}"`);
  }
  return { kind: 'file', path: raw };
}

function hostPort(flag: string, raw: string): string {
  if (!/^[^\s:/]+:\d{1,5}$/.test(raw))
    throw new StreamproofError('USAGE', `--${flag}: expected HOST:PORT, got "${raw}"`);
  return raw;
}

function httpUrl(flag: string, raw: string): string {
  try {
    const u = new URL(raw);
    if (u.protocol === 'http:' || u.protocol === 'https:') return raw.replace(/\/+$/, '');
  } catch {
    // reported below
  }
  throw new StreamproofError('USAGE', `--${flag}: expected an http(s) URL such as http://127.0.0.1:8081, got "${raw}"`);
}

export const generateCommand: Command = {
  name: 'generate',
  usage:
    'generate --count N [--seed S] [--format avro|json] [--schema-version 1|2|3] [--users N] [--to stdout|FILE|topic:NAME] [--bootstrap HOST:PORT] [--registry URL] [--json]',
  async run(argv) {
    const usage = `streamproof ${generateCommand.usage}`;
    const { values, positionals } = parse(
      joinNegativeNumbers(argv),
      {
        count: { type: 'string' },
        seed: { type: 'string' },
        format: { type: 'string' },
        'schema-version': { type: 'string' },
        users: { type: 'string' },
        to: { type: 'string' },
        bootstrap: { type: 'string' },
        registry: { type: 'string' },
        json: { type: 'boolean' },
      },
      usage,
    );
    if (values.help) {
      process.stdout.write(`usage: ${usage}\n`);
      return 0;
    }
    if (positionals.length > 0) {
      throw new StreamproofError('USAGE', `unexpected argument "${positionals[0]}"\nusage: ${usage}`);
    }
    if (values.count === undefined) throw new StreamproofError('USAGE', `--count: required\nusage: ${usage}`);
    const count = intFlag('count', values.count as string, { min: 0, max: Number.MAX_SAFE_INTEGER })!;
    const seed =
      intFlag('seed', values.seed as string | undefined, {
        min: Number.MIN_SAFE_INTEGER,
        max: Number.MAX_SAFE_INTEGER,
      }) ?? 1;
    const to = target(values.to as string | undefined);
    const rawFormat = (values.format as string | undefined) ?? (to.kind === 'topic' ? 'avro' : 'json');
    if (!(FORMATS as readonly string[]).includes(rawFormat)) {
      throw new StreamproofError('USAGE', `--format: expected avro or json, got "${rawFormat}"`);
    }
    const format = rawFormat as Format;
    const schemaVersion = (intFlag('schema-version', values['schema-version'] as string | undefined, {
      oneOf: [...SCHEMA_VERSIONS],
    }) ?? 3) as SchemaVersion;
    const users = intFlag('users', values.users as string | undefined, { min: 1, max: 10_000_000 }) ?? 100_000;
    const bootstrapFlag =
      values.bootstrap === undefined ? undefined : hostPort('bootstrap', values.bootstrap as string);
    const registryFlag = values.registry === undefined ? undefined : httpUrl('registry', values.registry as string);
    if (to.kind !== 'topic' && bootstrapFlag !== undefined) {
      throw new StreamproofError('USAGE', '--bootstrap: only meaningful with --to topic:NAME');
    }
    if (format === 'avro' && to.kind === 'stdout' && process.stdout.isTTY) {
      throw new StreamproofError(
        'USAGE',
        '--format avro: refusing to write binary frames to a terminal; redirect stdout, or use --to FILE, or --format json',
      );
    }
    const out = output(!!values.json);
    const started = performance.now();
    let schemaId: number | null = null;
    let subject: string | null = null;

    // Where the stack is, when needed: flags first, then the running CLI stack.
    const state = to.kind === 'topic' || registryFlag === undefined ? readState() : undefined;
    let registryUrl = registryFlag;
    if (format === 'avro' && to.kind === 'topic') registryUrl ??= state?.status.registry?.url;
    if (format === 'avro' && to.kind === 'topic' && registryUrl === undefined) {
      throw new StreamproofError(
        'USAGE',
        '--registry: avro to a topic needs a schema registry: pass --registry URL or start a stack (`streamproof stack up`)',
      );
    }
    if (registryUrl !== undefined && format === 'avro') {
      subject = to.kind === 'topic' ? `${to.topic}-value` : `streamproof-events-v${schemaVersion}-value`;
      schemaId = await register(registryUrl, subject, schemaVersion);
      out.progress({
        phase: 'generate',
        message: `schema v${schemaVersion} registered as id ${schemaId} (${subject})`,
      });
    }

    const gen = createBulkGenerator({
      seed,
      format,
      schemaVersion,
      users,
      schemaId: schemaId ?? schemaVersion,
    });
    let bytes = 0;
    let written = count;
    let lastReport = started;
    const report = (done: number) => {
      const now = performance.now();
      if (now - lastReport < 1000) return;
      lastReport = now;
      out.progress({
        phase: 'generate',
        message: `${done}/${count} events (${Math.round(done / ((now - started) / 1000))}/s)`,
        fraction: count === 0 ? 1 : done / count,
      });
    };

    if (to.kind === 'topic') {
      const bootstrap = bootstrapFlag ?? state?.status.kafka.bootstrap;
      if (bootstrap === undefined) {
        throw new StreamproofError(
          'USAGE',
          '--bootstrap: no Kafka to produce to: pass --bootstrap HOST:PORT or start a stack (`streamproof stack up`)',
        );
      }
      bytes = await produce(bootstrap, to.topic, gen, count, report);
    } else {
      const sink: Writable =
        to.kind === 'stdout' ? process.stdout : createWriteStream(to.path, { flags: 'w', highWaterMark: 1 << 20 });
      if (to.kind === 'file') await Promise.race([once(sink, 'open'), once(sink, 'error').then(([e]) => fail(e))]);
      ({ bytes, written } = await write(sink, gen, count, format, report));
    }

    const seconds = (performance.now() - started) / 1000;
    const summary: GenerateSummary = {
      count: written,
      requested: count,
      seed,
      format,
      schemaVersion,
      users,
      to: to.kind === 'stdout' ? 'stdout' : to.kind === 'file' ? to.path : `topic:${to.topic}`,
      schemaId,
      subject,
      bytes,
      seconds: Math.round(seconds * 1000) / 1000,
      eventsPerSec: seconds > 0 ? Math.round(written / seconds) : 0,
    };
    if (to.kind === 'stdout') {
      // stdout carries the events: the summary goes to stderr.
      if (out.json) process.stderr.write(`${JSON.stringify({ type: 'summary', ...summary })}\n`);
      else if (count >= 100_000) out.progress({ phase: 'generate', message: describe(summary) });
    } else if (out.json) out.data(summary);
    else out.print(describe(summary));
    return 0;
  },
};

/**
 * `--count -5` reads as a flag without its value to parseArgs ("ambiguous"); join such pairs into `--count=-5` so the
 * value check can say what is wrong with it (and a negative --seed works).
 */
function joinNegativeNumbers(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    if (/^--[a-z-]+$/.test(a) && next !== undefined && /^-\d/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

function describe(s: GenerateSummary): string {
  return `${s.count}${s.count < s.requested ? ` of ${s.requested} (the reader went away)` : ''} events (${s.format} v${s.schemaVersion}, seed ${s.seed}, ${s.users} users) to ${s.to}${
    s.schemaId === null ? '' : `, schema id ${s.schemaId} (${s.subject})`
  }: ${s.bytes} bytes in ${s.seconds} s`;
}

async function register(url: string, subject: string, version: SchemaVersion): Promise<number> {
  try {
    return await new RegistryClient(url).register(subject, EVENT_SCHEMAS[version]);
  } catch (err) {
    if (err instanceof StreamproofError) throw err;
    const cause = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
    throw new StreamproofError(
      'REGISTRY_ERROR',
      `cannot register schema v${version} under ${subject} at ${url}: ${cause}. Is the registry up (\`streamproof stack status\`)?`,
    );
  }
}

function fail(err: unknown): never {
  const e = err as NodeJS.ErrnoException;
  throw new StreamproofError('USAGE', `--to: cannot write ${e.path ?? 'the file'}: ${e.code ?? e.message}`);
}

type Gen = ReturnType<typeof createBulkGenerator>;

/** NDJSON lines or length-prefixed frames, with backpressure. Stops quietly when the reader goes away (EPIPE). */
async function write(
  sink: Writable,
  gen: Gen,
  count: number,
  format: Format,
  report: (done: number) => void,
): Promise<{ bytes: number; written: number }> {
  let closed = false;
  let error: Error | undefined;
  const onError = (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') closed = true;
    else error = e;
  };
  sink.on('error', onError);
  let bytes = 0;
  let done = 0;
  try {
    while (done < count && !closed) {
      const b = gen.nextBatch(Math.min(BATCH, count - done));
      const chunk = format === 'json' ? ndjson(b) : frames(b);
      bytes += chunk.length;
      if (!sink.write(chunk)) await drained(sink);
      if (error) throw error;
      done += b.count;
      report(done);
    }
  } finally {
    // stdout keeps the handler: a write still queued when the reader went away reports EPIPE later.
    if (sink !== process.stdout) {
      await new Promise<void>((resolve) => sink.end(resolve));
      sink.off('error', onError);
    }
  }
  if (error) fail(error);
  return { bytes, written: done };
}

/** Resolves on 'drain', or on 'close' (a closed pipe never drains), removing both listeners. */
function drained(sink: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      sink.off('drain', done);
      sink.off('close', done);
      resolve();
    };
    sink.on('drain', done);
    sink.on('close', done);
  });
}

type Batch = ReturnType<Gen['nextBatch']>;

function ndjson(b: Batch): Buffer {
  const bounds = b.bounds;
  let size = 0;
  for (let i = 0; i < b.count; i++) size += bounds[2 * i + 2]! - bounds[2 * i + 1]! + 1;
  const out = Buffer.allocUnsafe(size);
  let p = 0;
  for (let i = 0; i < b.count; i++) {
    p += b.buffer.copy(out, p, bounds[2 * i + 1]!, bounds[2 * i + 2]!);
    out[p++] = NL;
  }
  return out;
}

function frames(b: Batch): Buffer {
  const bounds = b.bounds;
  const out = Buffer.allocUnsafe(bounds[2 * b.count]! - bounds[0]! + 8 * b.count);
  let p = 0;
  for (let i = 0; i < b.count; i++) {
    const k0 = bounds[2 * i]!;
    const v0 = bounds[2 * i + 1]!;
    const v1 = bounds[2 * i + 2]!;
    out.writeUInt32BE(v0 - k0, p);
    p += 4 + b.buffer.copy(out, p + 4, k0, v0);
    out.writeUInt32BE(v1 - v0, p);
    p += 4 + b.buffer.copy(out, p + 4, v0, v1);
  }
  return out;
}

/** Produces with acks=all and idempotence; creates the topic (3 partitions) when it does not exist. */
async function produce(
  bootstrap: string,
  topic: string,
  gen: Gen,
  count: number,
  report: (done: number) => void,
): Promise<number> {
  const brokers = (await brokerIds(bootstrap)).length;
  await ensureTopic(bootstrap, topic, { partitions: 3, replicas: Math.min(3, Math.max(1, brokers)) });
  const producer = new Producer({
    clientId: 'streamproof-generate',
    bootstrapBrokers: [bootstrap],
    acks: -1,
    idempotent: true,
    timeout: 30_000,
    retries: 5,
    retryDelay: 250,
  });
  let bytes = 0;
  try {
    for (let done = 0; done < count; ) {
      const b = gen.nextBatch(Math.min(BATCH, count - done));
      const messages = new Array(b.count);
      for (let i = 0; i < b.count; i++) {
        // The batch buffer is reused by the next nextBatch: copy (the client serialises later).
        const key = Buffer.from(b.key(i));
        const value = Buffer.from(b.value(i));
        bytes += key.length + value.length;
        messages[i] = { topic, key, value };
      }
      await producer.send({ messages });
      done += b.count;
      report(done);
    }
    await producer.close();
  } catch (err) {
    await closeNow(producer);
    throw err;
  }
  return bytes;
}
