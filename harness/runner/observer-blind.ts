/**
 * The observer's blind windows: a partition not read successfully for `staleMs` is blind (records may be waiting
 * there). Tracks the current window (when it began, which partitions), when the last one ended, and the longest.
 */
export class BlindWindows {
  readonly staleMs: number;
  /** When the current window began (some partition stale); undefined while every partition is readable. */
  since: number | undefined;
  /** The partitions stale in the current window (empty when none is). */
  stale: number[] = [];
  /** When the last window ended (0: none yet). */
  lastEnd = 0;
  longest = { ms: 0, from: 0, partitions: [] as number[] };

  constructor(staleMs: number) {
    this.staleMs = staleMs;
  }

  /** Updates the windows at `now` from each partition's last successful read; returns the stale partitions. */
  track(now: number, lastOkAt: readonly number[]): number[] {
    const stale = lastOkAt.flatMap((ok, p) => (now - ok > this.staleMs ? [p] : []));
    if (stale.length > 0) {
      this.since ??= Math.min(...stale.map((p) => lastOkAt[p]!));
      this.stale = stale;
      const ms = now - this.since;
      if (ms > this.longest.ms) this.longest = { ms, from: this.since, partitions: stale };
    } else {
      if (this.since !== undefined) this.lastEnd = now;
      this.since = undefined;
      this.stale = [];
    }
    return stale;
  }

  /** The windows for the run's notes: the longest (if longer than `staleMs`), and partitions still blind. */
  notes(topic: string): string[] {
    const out: string[] = [];
    if (this.longest.ms > this.staleMs) {
      out.push(
        `observer: partition(s) ${this.longest.partitions.join(', ')} of ${topic} could not be read for ` +
          `${(this.longest.ms / 1000).toFixed(1)} s from ${new Date(this.longest.from).toISOString()} ` +
          '(latency of records written then includes it)',
      );
    }
    if (this.stale.length > 0) out.push(`observer: partition(s) ${this.stale.join(', ')} unreadable at the end`);
    return out;
  }
}
