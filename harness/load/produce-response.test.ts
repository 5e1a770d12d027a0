import { describe, expect, it } from 'vitest';
import { parseProduceResponse } from './produce-response.ts';

describe('produce response', () => {
  it('reads per-partition error codes of a Produce v8 response', () => {
    const parts: [number, number, string | null][] = [
      [0, 0, null],
      [1, 6, 'not leader'], // NOT_LEADER_OR_FOLLOWER
      [2, 7, null], // REQUEST_TIMED_OUT
    ];
    const chunks: Buffer[] = [];
    const i32 = (v: number) => {
      const b = Buffer.alloc(4);
      b.writeInt32BE(v);
      return b;
    };
    const i16 = (v: number) => {
      const b = Buffer.alloc(2);
      b.writeInt16BE(v);
      return b;
    };
    chunks.push(i32(1), i16(1), Buffer.from('t'), i32(parts.length));
    for (const [p, code, msg] of parts) {
      chunks.push(i32(p), i16(code), Buffer.alloc(24), i32(0));
      if (msg === null) chunks.push(i16(-1));
      else chunks.push(i16(msg.length), Buffer.from(msg));
    }
    chunks.push(i32(0)); // throttle
    const got: [number, number, string][] = [];
    parseProduceResponse(Buffer.concat(chunks), (p, c, m) => got.push([p, c, m]));
    expect(got).toEqual([
      [0, 0, ''],
      [1, 6, 'not leader'],
      [2, 7, ''],
    ]);
  });
});
