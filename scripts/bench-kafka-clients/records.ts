/** Records: seeded, identical for every client. */
import { opts } from './options.ts';

export const VALUE_BYTES = 100;
export const userKeys: Buffer[] = Array.from({ length: opts.users }, (_, i) =>
  Buffer.from(`user-${String(i).padStart(6, '0')}`),
);

/** The user of record i: a fixed multiplicative hash, so every run and every client sees the same key sequence. */
export function userOf(i: number): number {
  return Math.imul(i + 1, 2654435761) >>> 0;
}

export function record(i: number): { key: Buffer; value: Buffer } {
  const value = Buffer.alloc(VALUE_BYTES, 0x61);
  value.writeUInt32BE(i, 0);
  return { key: userKeys[userOf(i) % opts.users]!, value };
}

export function transform(value: Buffer): Buffer {
  // "transform": the output keeps the input sequence number (so duplicates are detectable) and marks the record.
  const out = Buffer.from(value);
  out[4] = 0x54;
  return out;
}
