/**
 * The collector: HTTP ingest in front of the `events` topic.
 *
 * Model: `POST /v1/events` takes a JSON array or NDJSON (one event per line). Each event is checked against the
 * latest schema (`decodeJson`, so v1/v2 bodies get the added fields' defaults) and the rules beyond it
 * (`eventProblems`). Valid events are produced keyed by `user_id` (so a user's events share a partition, in order)
 * with an idempotent producer and acks=all, as Confluent-framed Avro v3 (the id the registry gave our schema) or as
 * canonical JSON. Invalid ones go to the DLQ topic, the reason in headers. The answer is 202 only once every record of
 * the request is acked, with a result per event; a produce failure answers 503 and the client retries the request
 * (at-least-once from the client; the attributor's per-user `user_seq` check drops the duplicates it can create).
 *
 * Producing: one idempotent producer with one send in flight. @platformatic/kafka numbers a partition's sequences
 * when it builds a request, so two concurrent sends on one producer reuse sequence numbers and the broker answers
 * OutOfOrderSequence from then on. Requests that arrive while a send is in flight are coalesced, in arrival order,
 * into the next send (group commit: batches grow with load instead of requests queueing one by one), and each is
 * answered when its records are acked. After a failed send the producer is replaced, so a session whose sequences may
 * disagree with the broker's is never reused; the new one bootstraps at the next broker of the cluster (all of them
 * are found at start), so a broker that is down or restarting does not stop ingest.
 *
 * Backpressure: events accepted but not yet acked count against `maxInFlight`; a request that would exceed it gets
 * 429 with Retry-After before anything is produced. Bodies over `maxBodyBytes` get 413; a configured bearer token
 * makes every ingest request without it a 401.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Producer } from '@platformatic/kafka';
import { type EventV3, eventProblems, LATEST_SCHEMA_VERSION } from '../../generators/event.ts';
import { decodeJson, EVENT_SCHEMAS, EVENT_TYPES_AVRO, encodeConfluent, encodeJson } from '../../generators/schemas.ts';
import type { CommonConfig } from '../common/config.ts';
import { type StatusServer, startStatusServer } from '../common/http.ts';
import { chunkBySize, discoverBootstrap, ensureTopics, guarded, headers, rotate } from '../common/kafka.ts';
import { errorFields, type Logger } from '../common/log.ts';
import { Registry } from '../common/metrics.ts';
import { SchemaRegistryClient } from '../common/registry.ts';

export interface CollectorConfig extends CommonConfig {
  port: number;
  host: string;
  format: 'avro' | 'json';
  token: string | undefined;
  maxBodyBytes: number;
  maxInFlight: number;
}

export type EventResult =
  | { index: number; status: 'accepted'; event_id: string }
  | { index: number; status: 'rejected'; reason: string; event_id?: string };

export interface StartedCollector {
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
}

interface Item {
  raw: string;
  parsed?: unknown;
  parseError?: string;
}

export async function startCollector(cfg: CollectorConfig, log: Logger): Promise<StartedCollector> {
  const metrics = new Registry();
  const accepted = metrics.counter('collector_events_accepted_total', 'Events produced to the input topic and acked');
  const rejected = metrics.counter('collector_events_rejected_total', 'Events refused, by reason');
  const dlq = metrics.counter('collector_dlq_total', 'Records written to the dead-letter topic');
  const requests = metrics.counter('collector_requests_total', 'Ingest requests, by HTTP status');
  const produceLatency = metrics.histogram(
    'collector_produce_latency_seconds',
    'Time from produce call to ack (acks=all) per request',
  );
  const inFlightGauge = metrics.gauge('collector_in_flight_events', 'Events accepted but not yet acked');

  await ensureTopics(
    cfg.bootstrap,
    [
      { name: cfg.inputTopic, partitions: cfg.partitions },
      { name: cfg.dlqTopic, partitions: cfg.partitions },
    ],
    cfg.replicationFactor,
  );
  let schemaId = 0;
  if (cfg.format === 'avro') {
    if (!cfg.registryUrl)
      throw new Error('STREAMPROOF_SCHEMA_REGISTRY_URL: required for Avro (or set STREAMPROOF_COLLECTOR_FORMAT=json)');
    schemaId = await new SchemaRegistryClient(cfg.registryUrl).register(
      `${cfg.inputTopic}-value`,
      EVENT_SCHEMAS[LATEST_SCHEMA_VERSION],
    );
    log('schema registered', { subject: `${cfg.inputTopic}-value`, id: schemaId });
  }
  // Every broker, each new producer starting at another: one configured broker down must not stop ingest.
  const bootstrap = await discoverBootstrap(cfg.bootstrap, `streamproof-collector-${cfg.instance}-bootstrap`);
  let producers = 0;
  const sender = new CoalescingSender(() =>
    guarded(
      new Producer({
        clientId: `streamproof-collector-${cfg.instance}`,
        bootstrapBrokers: rotate(bootstrap, producers++),
        idempotent: true,
        acks: -1,
        retries: 10,
        retryDelay: 250,
        timeout: 30_000,
      }),
    ),
  );
  const encode = (e: EventV3): Buffer =>
    cfg.format === 'avro' ? encodeConfluent(schemaId, EVENT_TYPES_AVRO[LATEST_SCHEMA_VERSION], e) : encodeJson(e);

  let inFlight = 0;
  let ready = true;

  const reply = (res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}) => {
    requests.inc({ code: String(status) });
    res.writeHead(status, { 'content-type': 'application/json', ...extra });
    res.end(JSON.stringify(body));
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/v1/events') return false;
    if (req.method !== 'POST') {
      reply(res, 405, { error: 'use POST' }, { allow: 'POST' });
      return true;
    }
    if (cfg.token !== undefined && req.headers.authorization !== `Bearer ${cfg.token}`) {
      reply(res, 401, { error: 'missing or wrong bearer token' }, { 'www-authenticate': 'Bearer' });
      req.resume();
      return true;
    }
    const body = await readBody(req, cfg.maxBodyBytes);
    if (body === 'too-large') {
      reply(res, 413, { error: `body larger than ${cfg.maxBodyBytes} bytes` }, { connection: 'close' });
      return true;
    }
    let items: Item[];
    try {
      items = splitBody(body, req.headers['content-type']);
    } catch (err) {
      reply(res, 400, { error: (err as Error).message });
      return true;
    }
    const results: EventResult[] = [];
    const good: { index: number; event: EventV3 }[] = [];
    const bad: { index: number; raw: string; reason: string; message: string }[] = [];
    items.forEach((item, index) => {
      if (item.parseError !== undefined) {
        bad.push({ index, raw: item.raw, reason: 'invalid-json', message: item.parseError });
        return;
      }
      let event: EventV3;
      try {
        event = decodeJson(JSON.stringify(item.parsed), 3);
      } catch (err) {
        bad.push({ index, raw: item.raw, reason: 'schema', message: (err as Error).message });
        return;
      }
      const problems = eventProblems(event);
      if (problems.length > 0) {
        bad.push({ index, raw: item.raw, reason: 'rules', message: problems.join('; ') });
        return;
      }
      good.push({ index, event });
    });
    if (inFlight > 0 && inFlight + good.length > cfg.maxInFlight) {
      reply(res, 429, { error: `too many events in flight (${inFlight}); retry later` }, { 'retry-after': '1' });
      return true;
    }
    inFlight += good.length;
    inFlightGauge.set(inFlight);
    const started = performance.now();
    try {
      const messages = good.map(({ event }) => ({
        topic: cfg.inputTopic,
        key: Buffer.from(event.user_id),
        value: encode(event),
      }));
      for (const b of bad) {
        messages.push({
          topic: cfg.dlqTopic,
          key: Buffer.from(userKey(items[b.index]!.parsed)),
          value: Buffer.from(b.raw.length > 100_000 ? b.raw.slice(0, 100_000) : b.raw),
          headers: headers({
            'streamproof-dlq-source': 'collector',
            'streamproof-dlq-reason': b.reason,
            'streamproof-dlq-message': b.message.slice(0, 1000),
          }),
        } as (typeof messages)[number]);
      }
      await sender.send(messages);
    } catch (err) {
      log('produce failed', errorFields(err));
      reply(
        res,
        503,
        { error: `produce failed: ${(err as Error).message}; retry the request` },
        { 'retry-after': '1' },
      );
      return true;
    } finally {
      inFlight -= good.length;
      inFlightGauge.set(inFlight);
    }
    produceLatency.observe((performance.now() - started) / 1000);
    accepted.inc({}, good.length);
    for (const b of bad) {
      rejected.inc({ reason: b.reason });
      dlq.inc();
    }
    for (const g of good) results.push({ index: g.index, status: 'accepted', event_id: g.event.event_id });
    for (const b of bad) {
      const id = (items[b.index]!.parsed as { event_id?: unknown } | undefined)?.event_id;
      results.push({
        index: b.index,
        status: 'rejected',
        reason: `${b.reason}: ${b.message}`,
        ...(typeof id === 'string' ? { event_id: id } : {}),
      });
    }
    results.sort((a, b) => a.index - b.index);
    reply(res, 202, { accepted: good.length, rejected: bad.length, results });
    return true;
  };

  const server: StatusServer = await startStatusServer({
    port: cfg.port,
    host: cfg.host,
    registry: metrics,
    healthy: () => ready,
    route,
  });
  log('ready', { port: server.port, format: cfg.format, topic: cfg.inputTopic });
  return {
    port: server.port,
    url: `http://${cfg.host}:${server.port}`,
    async stop() {
      ready = false;
      await server.close();
      await sender.close();
    },
  };
}

function userKey(parsed: unknown): string {
  const u = (parsed as { user_id?: unknown } | undefined)?.user_id;
  return typeof u === 'string' && u.length <= 256 ? u : '';
}

async function readBody(req: IncomingMessage, max: number): Promise<string | 'too-large'> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) {
    req.resume();
    return 'too-large';
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) {
      req.resume();
      return 'too-large';
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A JSON array (content type application/json, or a body starting with `[`) or NDJSON (one event per non-empty line).
 * A broken array fails the whole request (400: its items cannot be told apart); a broken NDJSON line is one rejected
 * event, so the others still go through.
 */
function splitBody(body: string, contentType: string | undefined): Item[] {
  const trimmed = body.trimStart();
  const ndjson = /ndjson|jsonl|x-json-stream/i.test(contentType ?? '');
  if (!ndjson && trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (err) {
      throw new Error(`body is not a JSON array: ${(err as Error).message}`);
    }
    if (!Array.isArray(parsed)) throw new Error('body is not a JSON array');
    return parsed.map((p) => ({ raw: JSON.stringify(p) ?? 'null', parsed: p }));
  }
  const items: Item[] = [];
  for (const line of body.split('\n')) {
    const raw = line.replace(/\r$/, '');
    if (raw.trim() === '') continue;
    try {
      items.push({ raw, parsed: JSON.parse(raw) });
    } catch (err) {
      items.push({ raw, parseError: `not JSON: ${(err as Error).message}` });
    }
  }
  return items;
}

type OutRecord = { topic: string; key: Buffer; value: Buffer; headers?: Map<Buffer, Buffer> };

/** One send in flight; what arrives meanwhile goes into the next send. See the module comment. */
class CoalescingSender {
  #producer: Producer;
  #queue: { messages: OutRecord[]; done: (err?: unknown) => void }[] = [];
  #busy = false;

  constructor(private readonly make: () => Producer) {
    this.#producer = make();
  }

  send(messages: OutRecord[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ messages, done: (err) => (err === undefined ? resolve() : reject(err)) });
      void this.#pump();
    });
  }

  async #pump(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      while (this.#queue.length > 0) {
        const group = this.#queue.splice(0);
        let error: unknown;
        try {
          // Chunks go in order, each after the previous is acked, so a user's events keep their order.
          for (const chunk of chunkBySize(group.flatMap((g) => g.messages)))
            await this.#producer.send({ messages: chunk });
        } catch (err) {
          error = err ?? new Error('produce failed');
          const old = this.#producer;
          this.#producer = this.make();
          old.close(true, () => {});
        }
        for (const g of group) g.done(error);
      }
    } finally {
      this.#busy = false;
    }
  }

  async close(): Promise<void> {
    await this.#producer.close().catch(() => {});
  }
}
