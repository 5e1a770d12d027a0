/**
 * One lane of the pacing engine: its transport, the events gathered into its next group (HTTP requests), its queue
 * of offered events not yet sent (parallel arrays read from `qHead`), and its requests in flight, oldest first.
 */
import type { LaneTransport, SentRequest } from './transport.ts';

export interface InFlight<M> extends SentRequest<M> {
  readonly msgs: M[];
  readonly ids: string[];
  readonly sentAt: number[];
  readonly offeredAt: number[];
  readonly bytes: number;
  timer: unknown;
  settled: boolean;
  /** The lane's session it was sent in (a failure resets the lane only once per session). */
  readonly session: number;
}

export class Lane<M> {
  // Due, gathered into the next group (group > 1).
  gMsgs: M[] = [];
  gIds: string[] = [];
  gUserIds: string[] = [];
  gUserSeq: number[] = [];
  // Offered, not yet sent.
  qMsgs: M[] = [];
  qIds: string[] = [];
  qSentAt: number[] = [];
  qOfferedAt: number[] = [];
  qHead = 0;
  /** Requests in flight, oldest first. */
  sending: InFlight<M>[] = [];
  session = 0;
  /** The transport says when it can take a request (`ready()`). */
  readonly gated: boolean;

  constructor(readonly transport: LaneTransport<M>) {
    this.gated = typeof transport.ready === 'function';
  }

  get queued(): number {
    return this.qMsgs.length - this.qHead;
  }

  /** Takes the next request off the queue (up to maxRecords events and maxBytes, at least one) and tracks it. */
  take(maxRecords: number, maxBytes: number, size: (m: M) => number, writtenAt: number): InFlight<M> {
    const start = this.qHead;
    let end = start;
    let bytes = 0;
    while (end < this.qMsgs.length && end - start < maxRecords) {
      const b = size(this.qMsgs[end]!);
      if (end > start && bytes + b > maxBytes) break;
      bytes += b;
      end++;
    }
    const batch: InFlight<M> = {
      msgs: this.qMsgs.slice(start, end),
      ids: this.qIds.slice(start, end),
      sentAt: this.qSentAt.slice(start, end),
      offeredAt: this.qOfferedAt.slice(start, end),
      bytes,
      writtenAt,
      timer: undefined,
      settled: false,
      session: this.session,
    };
    this.qHead = end;
    // Drop what was sent: at once when the queue is empty (small arrays, young garbage), else once it is long.
    if (end === this.qMsgs.length) this.clearQueue();
    else if (this.qHead > 65_536 && this.qHead * 2 > this.qMsgs.length) {
      this.qMsgs = this.qMsgs.slice(this.qHead);
      this.qIds = this.qIds.slice(this.qHead);
      this.qSentAt = this.qSentAt.slice(this.qHead);
      this.qOfferedAt = this.qOfferedAt.slice(this.qHead);
      this.qHead = 0;
    }
    this.sending.push(batch);
    return batch;
  }

  /** Stops tracking a settled request. */
  untrack(batch: InFlight<M>): void {
    const k = this.sending.indexOf(batch);
    if (k >= 0) this.sending.splice(k, 1);
  }

  /** Empties the queue (the drain timed out: the engine recorded what it held). */
  clearQueue(): void {
    this.qMsgs = [];
    this.qIds = [];
    this.qSentAt = [];
    this.qOfferedAt = [];
    this.qHead = 0;
  }

  /** Empties the gathered group (it was offered). */
  clearGroup(): void {
    this.gMsgs = [];
    this.gIds = [];
    this.gUserIds = [];
    this.gUserSeq = [];
  }
}
