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
 * - **Requests**: Produce v8 (acks=all unless told, the broker's timeout), one RecordBatch v2 per partition
 *   (produce-encoder.ts), over one connection per broker (kafka-wire.ts). Partitions are grouped by leader, one
 *   request per leader connection.
 * - **Retries** (as the Java producer's, within one session): partitions answered with a retriable code are re-sent
 *   as the same RecordBatch bytes (same sequences, so the broker de-duplicates), see `#produce`.
 * - **Outcomes** per partition: code 0 on any attempt = `acked`; `failed` only when every attempt was rejected with a
 *   code returned before appending (`DEFINITE_PRODUCE_ERRORS`); any ambiguous attempt (another code, a connection
 *   lost with the request written) = `unknown`; a request never written (no connection, no producer id) = `failed`.
 *   The driver's contract (one producer session per event, never re-sent across sessions) holds unchanged.
 * - `padValuesTo` (bench only): values shorter than this are padded with zero bytes to exactly this size, so a bench
 *   sends the same record size as Kafka's ProducerPerformance (the Avro record is a prefix of the value).
 */
import { Admin } from '@platformatic/kafka';
import type { Outcome } from '../history/index.ts';
import { type Bootstrap, bootstrapList, rotate } from '../kafka/clients.ts';
import { StreamproofError } from '../util/errors.ts';
import { DEFINITE_PRODUCE_ERRORS } from './kafka-outcome.ts';
import { Wire } from './kafka-wire.ts';
import type { LaneSender } from './lane-sender.ts';
import type { Compression } from './options.ts';
import { ProduceEncoder } from './produce-encoder.ts';
import { errorName, LEADERSHIP, parseProduceResponse, RETRIABLE } from './produce-response.ts';
import type { OutMessage } from './transport.ts';

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
const MAX_RETRIES = 10;

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
