/**
 * Bucket files for judging a model contract out of memory: entries partitioned by a hash of their key, so that every
 * entry of one key (an expected output of the model, or an observed one) lands in the same bucket and a run can be
 * judged one bucket at a time. Entries go to disk in batches (V8's serializer: the values keep their types), in the
 * order they were added; a bucket reads back in that order.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';

/** FNV-1a over the key's UTF-16 code units: stable across processes and runs. */
export function bucketOf(key: string, buckets: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % buckets;
}

export class Buckets<T> {
  private readonly pending: T[][];
  private pendingCount = 0;

  /** `flushAt`: entries held in memory (over all buckets) before they are written. */
  constructor(
    readonly dir: string,
    readonly count: number,
    private readonly flushAt = 65_536,
  ) {
    mkdirSync(dir, { recursive: true });
    this.pending = Array.from({ length: count }, () => []);
  }

  add(key: string, entry: T): void {
    this.pending[bucketOf(key, this.count)]!.push(entry);
    if (++this.pendingCount >= this.flushAt) this.flush();
  }

  /** Writes what is held: one frame per bucket (a 4-byte length, then the serialized batch). */
  flush(): void {
    for (let b = 0; b < this.count; b++) {
      const list = this.pending[b]!;
      if (list.length === 0) continue;
      const body = serialize(list);
      const head = Buffer.alloc(4);
      head.writeUInt32LE(body.length);
      appendFileSync(this.file(b), Buffer.concat([head, body]));
      this.pending[b] = [];
    }
    this.pendingCount = 0;
  }

  /** Every entry of bucket `b`, in the order added (held ones included). */
  read(b: number): T[] {
    const out: T[] = [];
    const path = this.file(b);
    if (existsSync(path)) {
      const data = readFileSync(path);
      for (let at = 0; at < data.length; ) {
        const n = data.readUInt32LE(at);
        for (const e of deserialize(data.subarray(at + 4, at + 4 + n)) as T[]) out.push(e);
        at += 4 + n;
      }
    }
    for (const e of this.pending[b]!) out.push(e);
    return out;
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private file(b: number): string {
    return join(this.dir, `${b}.bin`);
  }
}
