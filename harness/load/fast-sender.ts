/**
 * The fast lane sender: the driver's `LaneSender` speaking Kafka's produce protocol itself, over one TCP connection
 * per partition leader, so the pre-encoded records of the bulk generator go into a produce request with one buffer
 * allocation and one copy (no per-record objects, BigInts or intermediate buffers, which is where the general
 * client spends ~7 µs per record: docs/load.md).
 *
 * Model:
 * - **Session**: an idempotent producer id (InitProducerId v1, no transactional id) and, per partition, the next
 *   sequence number (from 0). The driver keeps one send in flight per lane, so the sequence advances when a request
 *   is built; after any error the driver calls `reset()`: connections closed, a fresh producer id on the next send,
 *   sequences from 0 (so an ambiguous request can never make the broker de-duplicate a later batch).
 * - **Requests**: Produce v8 (acks=all unless told, the broker's timeout), one RecordBatch v2 per partition:
 *   base timestamp = build time, every record's timestamp delta 0, no headers; optional compression of the records
 *   (the client's codecs); CRC32C native. Partitions are grouped by leader, one request per leader connection.
 * - **Retries** (as the Java producer's, within one session): partitions answered with a retriable code are re-sent
 *   as the same RecordBatch bytes (same sequences, so the broker de-duplicates), see `#produce`.
 * - **Outcomes** per partition: code 0 on any attempt = `acked`; `failed` only when every attempt was rejected with a
 *   code returned before appending (`DEFINITE_PRODUCE_ERRORS`); any ambiguous attempt (another code, a connection
 *   lost with the request written) = `unknown`; a request never written (no connection, no producer id) = `failed`.
 *   The driver's contract (one producer session per event, never re-sent across sessions) holds unchanged.
 * - `padValuesTo` (bench only): values shorter than this are padded with zero bytes to exactly this size, so a bench
 *   sends the same record size as Kafka's ProducerPerformance (the Avro record is a prefix of the value).
 */
import { Socket } from 'node:net';
import {
  Admin,
  type CompressionAlgorithmValue,
  compressionsAlgorithms,
  crc32c,
  protocolErrorsCodesById,
} from '@platformatic/kafka';
import type { Outcome } from '../history/index.ts';
import { type Bootstrap, bootstrapList, rotate } from '../kafka/clients.ts';
import { StreamproofError } from '../util/errors.ts';
import type { LaneSender, OutMessage } from './driver.ts';
import { DEFINITE_PRODUCE_ERRORS } from './kafka-outcome.ts';
import type { Compression } from './options.ts';

export interface FastSenderOptions {
  /** One address or several (startLoad gives every broker, so a dead broker cannot strand the metadata calls). */
  bootstrap: Bootstrap;
  topic: string;
  clientId: string;
  /** Idempotent producer id and sequences. Default true. */
  idempotent: boolean;
  compression: Compression;
  /** The broker's produce timeout (waiting for the ISR). */
  acksTimeoutMs: number;
  /** acks: -1 (all, default) or 1. */
  acks?: -1 | 1;
  padValuesTo?: number;
  connectTimeoutMs?: number;
}

const API_PRODUCE = 0;
const API_INIT_PRODUCER_ID = 22;
const BATCH_HEADER = 61;
const MAX_RETRIES = 10;

/** Produce codes the Java producer retries (RetriableException): the same batch may be sent again. */
const RETRIABLE: ReadonlySet<string> = new Set([
  'CORRUPT_MESSAGE',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_OR_FOLLOWER',
  'REQUEST_TIMED_OUT',
  'NETWORK_EXCEPTION',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'KAFKA_STORAGE_ERROR',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
]);
/** Of those, the ones that mean "ask for metadata again": the leader moved or is not known yet. */
const LEADERSHIP: ReadonlySet<string> = new Set([
  'UNKNOWN_TOPIC_OR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_OR_FOLLOWER',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
]);

/**
 * A failed send, `LOAD_SEND_FAILED`, with what it means per partition (`details.perPartition`: partition -> outcome,
 * `details.fallback` for the others); `outcomes()` reads it.
 */
export function sendError(
  message: string,
  perPartition: ReadonlyMap<number, Outcome>,
  fallback: Outcome,
): StreamproofError {
  return new StreamproofError('LOAD_SEND_FAILED', message, {
    perPartition: Object.fromEntries(perPartition),
    fallback,
  });
}

interface Pending {
  resolve(body: Buffer): void;
  reject(error: Error): void;
}

/** One broker connection: request/response framing by correlation id. */
class Wire {
  readonly socket: Socket;
  readonly ready: Promise<void>;
  #pending = new Map<number, Pending>();
  #next = 1;
  #chunks: Buffer[] = [];
  #have = 0;
  #closed: Error | undefined;
  #clientId: Buffer;

  constructor(host: string, port: number, clientId: string, connectTimeoutMs: number) {
    this.#clientId = Buffer.from(clientId, 'utf8');
    this.socket = new Socket();
    this.socket.setNoDelay(true);
    this.ready = new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`Connection to ${host}:${port} timed out.`));
        this.close(new Error('connect timeout'));
      }, connectTimeoutMs);
      this.socket.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      this.socket.once('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`Connection to ${host}:${port} failed: ${e.message}`));
      });
    });
    this.ready.catch(() => {});
    this.socket.on('data', (d: Buffer) => this.#onData(d));
    this.socket.on('error', (e) => this.close(e));
    this.socket.on('close', () => this.close(new Error('connection closed')));
    this.socket.connect(port, host);
  }

  get closed(): boolean {
    return this.#closed !== undefined;
  }

  /** Header v1 (non-flexible). `body(buf, offset)` writes `bodySize` bytes. */
  request(apiKey: number, version: number, bodySize: number, body: (b: Buffer, o: number) => void): Promise<Buffer> {
    if (this.#closed) return Promise.reject(this.#closed);
    const id = this.#next++ & 0x7fffffff;
    const headerSize = 2 + 2 + 4 + 2 + this.#clientId.length;
    const b = Buffer.allocUnsafe(4 + headerSize + bodySize);
    b.writeInt32BE(headerSize + bodySize, 0);
    b.writeInt16BE(apiKey, 4);
    b.writeInt16BE(version, 6);
    b.writeInt32BE(id, 8);
    b.writeInt16BE(this.#clientId.length, 12);
    this.#clientId.copy(b, 14);
    body(b, 4 + headerSize);
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.socket.write(b);
    });
  }

  #onData(d: Buffer): void {
    this.#chunks.push(d);
    this.#have += d.length;
    for (;;) {
      if (this.#have < 4) return;
      let head = this.#chunks[0]!;
      if (head.length < 4) {
        head = Buffer.concat(this.#chunks);
        this.#chunks = [head];
      }
      const size = head.readInt32BE(0);
      if (this.#have < 4 + size) return;
      const all = this.#chunks.length === 1 ? head : Buffer.concat(this.#chunks);
      const frame = all.subarray(4, 4 + size);
      const rest = all.subarray(4 + size);
      this.#chunks = rest.length > 0 ? [rest] : [];
      this.#have = rest.length;
      const id = frame.readInt32BE(0);
      const p = this.#pending.get(id);
      if (p !== undefined) {
        this.#pending.delete(id);
        p.resolve(frame.subarray(4));
      }
    }
  }

  close(error: Error = new Error('connection closed by the producer')): void {
    if (this.#closed) return;
    this.#closed = error;
    this.socket.destroy();
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
  }
}

interface Session {
  producerId: bigint;
  epoch: number;
  seq: Map<number, number>;
  /** Requests of the session in send order: the next index, those not settled yet (resolve true if all acked). */
  next: number;
  pending: Map<number, Promise<boolean>>;
  /** Lowest index of a settled request that was not fully acked. */
  firstFailed: number;
  /** Some request of the session retried: a later one's OUT_OF_ORDER_SEQUENCE_NUMBER is then expected. */
  retried: boolean;
  /** Per partition, the session's first request holding it (index, settles true if all acked). */
  firstOf: Map<number, { index: number; done: Promise<boolean> }>;
}

function newSession(producerId: bigint, epoch: number): Session {
  return {
    producerId,
    epoch,
    seq: new Map(),
    next: 0,
    pending: new Map(),
    firstFailed: Number.POSITIVE_INFINITY,
    retried: false,
    firstOf: new Map(),
  };
}

function zz(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

function varintSize(u: number): number {
  return u < 0x80 ? 1 : u < 0x4000 ? 2 : u < 0x200000 ? 3 : u < 0x10000000 ? 4 : 5;
}

function writeVarint(b: Buffer, p: number, u: number): number {
  while (u >= 0x80) {
    b[p++] = (u & 0x7f) | 0x80;
    u >>>= 7;
  }
  b[p++] = u;
  return p;
}

const COMPRESSION_BITS: Record<Compression, number> = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 };

export class FastLaneSender implements LaneSender {
  readonly options: FastSenderOptions;
  #leaders = new Map<number, number>(); // partition -> broker id
  #brokers = new Map<number, { host: string; port: number }>();
  #wires = new Map<number, Wire>();
  #session: Session | undefined;
  #sessionPromise: Promise<Session> | undefined;
  #encoder: ProduceEncoder;
  #closedForGood = false;
  /** Metadata calls that failed: the next starts the bootstrap list this far along (past a dead or frozen broker). */
  #metadataFailures = 0;
  /** Partition batches re-sent after a retriable code, and the last such code (for reports). */
  retries = 0;
  lastRetryCode: string | undefined;

  constructor(options: FastSenderOptions) {
    this.options = options;
    this.#encoder = new ProduceEncoder(options.topic, options.compression, options.padValuesTo ?? 0);
  }

  /** Metadata (partition leaders), connections, the producer id: before the schedule starts. Returns partitions. */
  async warmUp(): Promise<number> {
    const n = await this.#refreshMetadata();
    if (n > 0) await this.#ensureSession();
    return n;
  }

  async #refreshMetadata(): Promise<number> {
    const a = new Admin({
      clientId: `${this.options.clientId}-metadata`,
      bootstrapBrokers: rotate(bootstrapList(this.options.bootstrap), this.#metadataFailures),
      retries: 1,
      retryDelay: 200,
      timeout: 5000,
      connectTimeout: 3000,
    });
    try {
      const md = await a.metadata({ topics: [this.options.topic], forceUpdate: true }).catch((e: unknown) => {
        this.#metadataFailures++;
        throw e;
      });
      this.#brokers = new Map([...md.brokers].map(([id, b]) => [id, { host: b.host, port: b.port }]));
      const t = md.topics.get(this.options.topic);
      this.#leaders = new Map((t?.partitions ?? []).map((p, i) => [i, p.leader]));
      return t?.partitionsCount ?? 0;
    } finally {
      await a.close().catch(() => {});
    }
  }

  #wire(broker: number): Wire {
    let w = this.#wires.get(broker);
    if (w === undefined || w.closed) {
      const b = this.#brokers.get(broker);
      if (b === undefined) throw new Error(`no address for broker ${broker}`);
      w = new Wire(b.host, b.port, this.options.clientId, this.options.connectTimeoutMs ?? 5000);
      this.#wires.set(broker, w);
    }
    return w;
  }

  #ensureSession(): Promise<Session> {
    if (this.#session !== undefined) return Promise.resolve(this.#session);
    this.#sessionPromise ??= this.#initSession().then(
      (s) => {
        this.#session = s;
        this.#sessionPromise = undefined;
        return s;
      },
      (e: unknown) => {
        this.#sessionPromise = undefined;
        throw e;
      },
    );
    return this.#sessionPromise;
  }

  async #initSession(): Promise<Session> {
    if (this.#leaders.size === 0 || this.#brokers.size === 0) await this.#refreshMetadata();
    // Connect to every leader, but a dead one (a killed broker the controller has not fenced yet, or no leader) must
    // not fail the session: only the partitions it leads fail, each on its own send.
    const leaders = [...new Set(this.#leaders.values())].filter((l) => this.#brokers.has(l));
    const ready = await Promise.allSettled(leaders.map((l) => this.#wire(l).ready));
    const live = leaders.filter((_, i) => ready[i]!.status === 'fulfilled');
    if (live.length === 0) {
      const why = ready.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
      throw new Error(
        `no partition leader of ${this.options.topic} reachable: ${(why?.reason as Error)?.message ?? 'no leader known'}`,
      );
    }
    if (!this.options.idempotent) return newSession(-1n, -1);
    const w = this.#wire(live[0]!);
    // InitProducerId v1: transactional_id null, transaction_timeout_ms.
    const body = await w.request(API_INIT_PRODUCER_ID, 1, 6, (b, o) => {
      b.writeInt16BE(-1, o);
      b.writeInt32BE(60_000, o + 2);
    });
    const code = body.readInt16BE(4);
    if (code !== 0) throw new Error(`InitProducerId failed: ${errorName(code)}`);
    return newSession(body.readBigInt64BE(6), body.readInt16BE(14));
  }

  send(messages: OutMessage[], done: (error?: unknown) => void): void {
    if (this.#closedForGood) {
      done(sendError('sender closed', new Map(), 'failed'));
      return;
    }
    if (this.#session !== undefined) {
      this.#sendNow(this.#session, messages, done);
      return;
    }
    this.#ensureSession().then(
      (s) => this.#sendNow(s, messages, done),
      (e: unknown) => done(sendError(`not sent: ${(e as Error)?.message ?? String(e)}`, new Map(), 'failed')),
    );
  }

  #sendNow(session: Session, messages: OutMessage[], done: (error?: unknown) => void): void {
    // Group by leader: usually one.
    const byLeader = new Map<number, OutMessage[]>();
    for (const m of messages) {
      const leader = this.#leaders.get(m.partition);
      if (leader === undefined) {
        done(sendError(`no leader known for partition ${m.partition}`, new Map(), 'failed'));
        return;
      }
      const l = byLeader.get(leader);
      if (l === undefined) byLeader.set(leader, [m]);
      else l.push(m);
    }
    const groups: [number, OutMessage[]][] =
      byLeader.size === 1 ? [[[...byLeader.keys()][0]!, messages]] : [...byLeader];
    const results: Promise<Map<number, Outcome>>[] = [];
    for (const [leader, msgs] of groups) {
      results.push(this.#produce(session, leader, msgs));
    }
    void Promise.all(results).then(
      (maps) => {
        const merged = new Map<number, Outcome>();
        for (const m of maps) for (const [p, o] of m) merged.set(p, o);
        let bad: string | undefined;
        for (const [p, o] of merged) if (o !== 'acked') bad ??= `partition ${p}: ${o}`;
        if (bad === undefined) done();
        else done(sendError(this.#lastError ?? bad, merged, 'unknown'));
      },
      // #produce never rejects by design; should it ever, every event of the send is unknown, never a crash.
      (e: unknown) => done(sendError(`send failed: ${(e as Error)?.message ?? e}`, new Map(), 'unknown')),
    );
  }

  #lastError: string | undefined;

  /**
   * One produce request to one leader; resolves (never rejects) with every partition's outcome. Partitions the broker
   * answers with a retriable code are re-sent as the *same* batches (same producer id, epoch and sequences: the
   * broker de-duplicates them if an earlier attempt did append), after a pause and, for leadership codes, a metadata
   * refresh, while the session lasts and within acksTimeoutMs. A partition is `failed` only if every attempt was
   * rejected with a definite code; any ambiguous attempt makes it `unknown`.
   */
  async #produce(session: Session, leader: number, msgs: OutMessage[]): Promise<Map<number, Outcome>> {
    const index = session.next++;
    let settle!: (allAcked: boolean) => void;
    const done = new Promise<boolean>((r) => {
      settle = r;
    });
    session.pending.set(index, done);
    let out: Map<number, Outcome> | undefined;
    try {
      out = await this.#attempts(session, index, done, leader, msgs);
      return out;
    } finally {
      const ok = out !== undefined && [...out.values()].every((o) => o === 'acked');
      if (!ok) session.firstFailed = Math.min(session.firstFailed, index);
      session.pending.delete(index);
      settle(ok);
    }
  }

  async #attempts(
    session: Session,
    index: number,
    done: Promise<boolean>,
    leader: number,
    msgs: OutMessage[],
  ): Promise<Map<number, Outcome>> {
    const counts = new Map<number, number>();
    for (const m of msgs) counts.set(m.partition, (counts.get(m.partition) ?? 0) + 1);
    // A broker with no state for this producer on a partition accepts any first sequence: if the session's first
    // request for a partition were refused (a leader not ready yet) while a later one is in flight, the later one
    // would be appended first and the first could never follow. So a request waits for the first request of each of
    // its partitions to be acked (the first requests of a session, nothing after).
    const firsts: Promise<boolean>[] = [];
    for (const p of counts.keys()) {
      const f = session.firstOf.get(p);
      if (f === undefined) session.firstOf.set(p, { index, done });
      else if (f.index !== index && session.pending.has(f.index)) firsts.push(f.done);
    }
    const out = new Map<number, Outcome>();
    // The leader's connection first: a request on a connection that never opened was never written (failed, not
    // unknown). Awaited before plan(): plan and the first write run without an await between them.
    try {
      await this.#wire(leader).ready;
    } catch (e) {
      this.#lastError = `not sent: ${(e as Error)?.message ?? String(e)}`;
      return new Map([...counts.keys()].map((p) => [p, 'failed' as Outcome]));
    }
    const firstSeq = new Map<number, number>();
    for (const [p, n] of counts) {
      const s = session.seq.get(p) ?? 0;
      firstSeq.set(p, this.options.idempotent ? s : -1);
      // Sequences wrap at 2^31 - 1 to 0, as the Java client does.
      session.seq.set(p, (s + n) % 0x80000000);
    }
    if (firsts.length > 0 && !(await Promise.all(firsts)).every(Boolean)) {
      // Never written: the partition's first request failed, and the session ends with it.
      this.#lastError = 'not sent: an earlier request of this producer session failed';
      return new Map([...counts.keys()].map((p) => [p, 'failed' as Outcome]));
    }
    // plan() and the first write() run without an await between them: the encoder's scratch is per sender.
    const plan = this.#encoder.plan(msgs);
    const ambiguous = new Set<number>();
    const deadline = Date.now() + this.options.acksTimeoutMs;
    let batches: Map<number, Buffer> | undefined;
    let todo = plan.partitions;
    for (let attempt = 0; ; attempt++) {
      let wire: Wire;
      try {
        wire = this.#wire(attempt === 0 ? leader : (this.#leaders.get(todo[0]!) ?? leader));
      } catch (e) {
        this.#lastError = String((e as Error).message);
        for (const p of todo) out.set(p, ambiguous.has(p) ? 'unknown' : 'failed');
        return out;
      }
      let req: Promise<Buffer>;
      if (batches === undefined) {
        req = wire.request(API_PRODUCE, 8, plan.bodySize, (b, o) => {
          this.#encoder.write(b, o, plan, msgs, {
            acks: this.options.acks ?? -1,
            timeoutMs: Math.min(this.options.acksTimeoutMs, 0x7fffffff),
            producerId: session.producerId,
            epoch: session.epoch,
            firstSeq,
            timestamp: BigInt(Date.now()),
          });
          batches = new Map([...plan.batchAt].map(([p, [s, e]]) => [p, b.subarray(s, e)]));
        });
      } else {
        const parts = todo.map((p) => [p, batches!.get(p)!] as const);
        req = wire.request(API_PRODUCE, 8, this.#encoder.retrySize(parts), (b, o) =>
          this.#encoder.writeRetry(b, o, parts, this.options.acks ?? -1, this.options.acksTimeoutMs),
        );
      }
      let body: Buffer;
      try {
        body = await req;
      } catch (e) {
        // Written, then the connection went away: the broker may have appended it.
        this.#lastError = `connection lost with the request in flight: ${(e as Error)?.message ?? String(e)}`;
        for (const p of todo) out.set(p, 'unknown');
        return out;
      }
      const retry: number[] = [];
      let refresh = false;
      const answered = new Set<number>();
      parseProduceResponse(body, (p, code, message) => {
        answered.add(p);
        if (code === 0) {
          out.set(p, 'acked');
          return;
        }
        const name = errorName(code);
        this.#lastError = `${name}${message ? `: ${message}` : ''}`;
        if (!DEFINITE_PRODUCE_ERRORS.has(name)) ambiguous.add(p);
        // Behind an earlier request of the session that is being retried, the broker refuses this one as out of
        // order (nothing appended): it goes again, after the earlier one, as Java's producer re-sends in order.
        const behindRetry = name === 'OUT_OF_ORDER_SEQUENCE_NUMBER' && session.retried && index > 0;
        if (RETRIABLE.has(name) || behindRetry) {
          retry.push(p);
          if (LEADERSHIP.has(name)) refresh = true;
        } else out.set(p, ambiguous.has(p) ? 'unknown' : 'failed');
      });
      for (const p of todo) if (!answered.has(p)) out.set(p, 'unknown');
      const pause = Math.min(1000, 50 * 2 ** attempt);
      const sessionLasts = this.#session === session && !this.#closedForGood;
      if (retry.length === 0 || !sessionLasts || Date.now() + pause >= deadline || attempt >= MAX_RETRIES) {
        for (const p of retry) out.set(p, ambiguous.has(p) ? 'unknown' : 'failed');
        return out;
      }
      this.retries += retry.length;
      this.lastRetryCode = this.#lastError;
      session.retried = true;
      await new Promise((r) => setTimeout(r, pause));
      if (refresh) await this.#refreshMetadata().catch(() => {});
      // In order: every earlier request of the session must be settled, and acked, before this one goes again.
      const earlier = [...session.pending].filter(([i]) => i < index).map(([, done]) => done);
      const earlierOk = (await Promise.all(earlier)).every(Boolean) && session.firstFailed > index;
      if (!earlierOk) {
        for (const p of retry) out.set(p, ambiguous.has(p) ? 'unknown' : 'failed');
        return out;
      }
      if (this.#session !== session || this.#closedForGood) {
        for (const p of retry) out.set(p, ambiguous.has(p) ? 'unknown' : 'failed');
        return out;
      }
      todo = retry;
    }
  }

  outcomes(error: unknown): (partition: number) => Outcome {
    if (error instanceof StreamproofError && error.code === 'LOAD_SEND_FAILED') {
      const { perPartition, fallback } = error.details as { perPartition: Record<number, Outcome>; fallback: Outcome };
      return (p) => perPartition[p] ?? fallback;
    }
    return () => 'unknown';
  }

  describe(error: unknown): string {
    return error instanceof Error ? error.message : String(error);
  }

  reset(): void {
    for (const w of this.#wires.values()) w.close();
    this.#wires.clear();
    this.#session = undefined;
    this.#sessionPromise = undefined;
    // Leaders may have moved (NOT_LEADER_OR_FOLLOWER): the next session refreshes the metadata first.
    this.#leaders.clear();
  }

  async close(): Promise<void> {
    this.#closedForGood = true;
    for (const w of this.#wires.values()) w.close();
    this.#wires.clear();
  }
}

export interface ProducePlan {
  /** Partitions in request order, records per partition, size of each partition's records section. */
  partitions: number[];
  counts: Map<number, number>;
  sections: Map<number, number>;
  /** Compressed sections (only with compression). */
  compressed: Map<number, Buffer>;
  bodySize: number;
  /** Filled by `write`: where each partition's RecordBatch sits in the buffer (start, end). */
  batchAt: Map<number, [number, number]>;
}

export interface BatchHeader {
  acks: number;
  timeoutMs: number;
  producerId: bigint;
  epoch: number;
  /** Base sequence per partition (-1 when not idempotent). */
  firstSeq: ReadonlyMap<number, number>;
  timestamp: bigint;
}

/**
 * Produce request v8 bodies for one topic: `plan` sizes everything (one pass over the records), `write` fills the
 * caller's buffer (a second pass: one copy of each key and value, CRC32C per batch). Pure: no I/O, unit-tested by
 * decoding its output with the client's own RecordBatch reader.
 */
export class ProduceEncoder {
  readonly #topic: Buffer;
  readonly #compression: Compression;
  readonly #pad: number;
  /** Per-message scratch (offset delta within its partition, record body size); grown on demand. */
  #delta = new Int32Array(1024);
  #size = new Int32Array(1024);

  constructor(topic: string, compression: Compression, padValuesTo = 0) {
    this.#topic = Buffer.from(topic, 'utf8');
    this.#compression = compression;
    this.#pad = padValuesTo;
  }

  plan(msgs: readonly OutMessage[]): ProducePlan {
    const counts = new Map<number, number>();
    const sections = new Map<number, number>();
    const n = msgs.length;
    if (this.#delta.length < n) {
      this.#delta = new Int32Array(n * 2);
      this.#size = new Int32Array(n * 2);
    }
    const delta = this.#delta;
    const size = this.#size;
    const pad = this.#pad;
    for (let i = 0; i < n; i++) {
      const m = msgs[i]!;
      const c = counts.get(m.partition) ?? 0;
      counts.set(m.partition, c + 1);
      delta[i] = c;
      const kl = m.key.length;
      const vl = Math.max(m.value.length, pad);
      const body = 1 + 1 + varintSize(zz(c)) + varintSize(zz(kl)) + kl + varintSize(zz(vl)) + vl + 1;
      size[i] = body;
      sections.set(m.partition, (sections.get(m.partition) ?? 0) + varintSize(zz(body)) + body);
    }
    const partitions = [...counts.keys()];
    const compressed = new Map<number, Buffer>();
    if (this.#compression !== 'none') {
      const algo = compressionsAlgorithms[this.#compression as CompressionAlgorithmValue];
      for (const p of partitions) {
        const raw = Buffer.allocUnsafe(sections.get(p)!);
        let o = 0;
        for (let i = 0; i < n; i++) if (msgs[i]!.partition === p) o = this.#writeRecord(raw, o, msgs[i]!, i);
        const out = algo.compressSync(raw) as unknown;
        const buf = Buffer.isBuffer(out)
          ? out
          : Buffer.from((out as { buffer: Uint8Array }).buffer ?? (out as Uint8Array));
        compressed.set(p, buf);
        sections.set(p, buf.length);
      }
    }
    let bodySize = 2 + 2 + 4 + 4 + 2 + this.#topic.length + 4;
    for (const p of partitions) bodySize += 4 + 4 + BATCH_HEADER + sections.get(p)!;
    return { partitions, counts, sections, compressed, bodySize, batchAt: new Map() };
  }

  /** Writes the body planned by `plan(msgs)` (the same msgs, before any other plan call) at b[o..o+bodySize). */
  write(b: Buffer, o: number, plan: ProducePlan, msgs: readonly OutMessage[], h: BatchHeader): void {
    const n = msgs.length;
    const attrs = COMPRESSION_BITS[this.#compression];
    b.writeInt16BE(-1, o); // transactional_id null
    b.writeInt16BE(h.acks, o + 2);
    b.writeInt32BE(h.timeoutMs, o + 4);
    b.writeInt32BE(1, o + 8); // one topic
    b.writeInt16BE(this.#topic.length, o + 12);
    this.#topic.copy(b, o + 14);
    o += 14 + this.#topic.length;
    b.writeInt32BE(plan.partitions.length, o);
    o += 4;
    for (const p of plan.partitions) {
      const count = plan.counts.get(p)!;
      const sec = plan.sections.get(p)!;
      b.writeInt32BE(p, o);
      b.writeInt32BE(BATCH_HEADER + sec, o + 4);
      const batchStart = o + 8;
      b.writeBigInt64BE(0n, batchStart); // base offset
      b.writeInt32BE(BATCH_HEADER - 12 + sec, batchStart + 8); // batch length: the bytes after this field
      b.writeInt32BE(-1, batchStart + 12); // partition leader epoch
      b[batchStart + 16] = 2; // magic
      const crcAt = batchStart + 17;
      b.writeInt16BE(attrs, batchStart + 21);
      b.writeInt32BE(count - 1, batchStart + 23); // last offset delta
      b.writeBigInt64BE(h.timestamp, batchStart + 27); // base timestamp
      b.writeBigInt64BE(h.timestamp, batchStart + 35); // max timestamp
      b.writeBigInt64BE(h.producerId, batchStart + 43);
      b.writeInt16BE(h.epoch, batchStart + 51);
      b.writeInt32BE(h.firstSeq.get(p) ?? -1, batchStart + 53);
      b.writeInt32BE(count, batchStart + 57);
      let w = batchStart + BATCH_HEADER;
      const c = plan.compressed.get(p);
      if (c === undefined) {
        for (let i = 0; i < n; i++) if (msgs[i]!.partition === p) w = this.#writeRecord(b, w, msgs[i]!, i);
      } else {
        c.copy(b, w);
        w += c.length;
      }
      b.writeUInt32BE(crc32c(b.subarray(crcAt + 4, w)), crcAt);
      plan.batchAt.set(p, [batchStart, w]);
      o = w;
    }
  }

  /** Body size of a retry: the same RecordBatches, byte for byte, for some partitions. */
  retrySize(parts: readonly (readonly [number, Buffer])[]): number {
    let n = 2 + 2 + 4 + 4 + 2 + this.#topic.length + 4;
    for (const [, batch] of parts) n += 4 + 4 + batch.length;
    return n;
  }

  writeRetry(b: Buffer, o: number, parts: readonly (readonly [number, Buffer])[], acks: number, timeoutMs: number) {
    b.writeInt16BE(-1, o);
    b.writeInt16BE(acks, o + 2);
    b.writeInt32BE(Math.min(timeoutMs, 0x7fffffff), o + 4);
    b.writeInt32BE(1, o + 8);
    b.writeInt16BE(this.#topic.length, o + 12);
    this.#topic.copy(b, o + 14);
    o += 14 + this.#topic.length;
    b.writeInt32BE(parts.length, o);
    o += 4;
    for (const [p, batch] of parts) {
      b.writeInt32BE(p, o);
      b.writeInt32BE(batch.length, o + 4);
      batch.copy(b, o + 8);
      o += 8 + batch.length;
    }
  }

  #writeRecord(b: Buffer, o: number, m: OutMessage, i: number): number {
    const key = m.key;
    const value = m.value;
    const kl = key.length;
    const vl0 = value.length;
    const vl = Math.max(vl0, this.#pad);
    o = writeVarint(b, o, zz(this.#size[i]!));
    b[o++] = 0; // attributes
    b[o++] = 0; // timestamp delta
    o = writeVarint(b, o, zz(this.#delta[i]!));
    o = writeVarint(b, o, zz(kl));
    for (let k = 0; k < kl; k++) b[o + k] = key[k]!;
    o += kl;
    o = writeVarint(b, o, zz(vl));
    if (vl0 > 48) value.copy(b, o);
    else for (let k = 0; k < vl0; k++) b[o + k] = value[k]!;
    if (vl > vl0) b.fill(0, o + vl0, o + vl);
    o += vl;
    b[o++] = 0; // headers
    return o;
  }
}

function errorName(code: number): string {
  return (protocolErrorsCodesById as Record<number, string>)[code] ?? `error code ${code}`;
}

/** Produce response v8: per partition (index, error code, error message). */
export function parseProduceResponse(b: Buffer, each: (partition: number, code: number, message: string) => void) {
  let o = 0;
  const topics = b.readInt32BE(o);
  o += 4;
  for (let t = 0; t < topics; t++) {
    const nameLen = b.readInt16BE(o);
    o += 2 + Math.max(0, nameLen);
    const parts = b.readInt32BE(o);
    o += 4;
    for (let k = 0; k < parts; k++) {
      const index = b.readInt32BE(o);
      const code = b.readInt16BE(o + 4);
      o += 4 + 2 + 8 + 8 + 8; // base offset, log append time, log start offset
      const recordErrors = b.readInt32BE(o);
      o += 4;
      for (let r = 0; r < recordErrors; r++) {
        o += 4;
        const l = b.readInt16BE(o);
        o += 2 + Math.max(0, l);
      }
      const ml = b.readInt16BE(o);
      o += 2;
      const message = ml > 0 ? b.toString('utf8', o, o + ml) : '';
      o += Math.max(0, ml);
      each(index, code, message);
    }
  }
}
