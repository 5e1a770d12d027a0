import { MultipleErrors, NetworkError, ResponseError, TimeoutError, UserError } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { describeError, produceOutcome } from './kafka-outcome.ts';

const T = 'events';
const connectFailed = () => new NetworkError('Connection to 127.0.0.1:9 failed.', { cause: new Error('ECONNREFUSED') });
const closed = () => new NetworkError('Connection closed');

/** A produce response: partition -> broker error code (0 = appended). */
function response(codes: Record<number, number>): ResponseError {
  const partitionResponses = Object.entries(codes).map(([p, c]) => ({
    index: Number(p),
    errorCode: c,
    baseOffset: 0n,
  }));
  const errors: Record<string, [number, string | null]> = {};
  partitionResponses.forEach((p, j) => {
    if (p.errorCode !== 0) errors[`/responses/0/partition_responses/${j}`] = [p.errorCode, null];
  });
  return new ResponseError(0, 11, errors, { responses: [{ name: T, partitionResponses }], throttleTimeMs: 0 });
}

describe('produceOutcome (which writes definitely did not happen)', () => {
  it.each([
    ['a connection that never opened', connectFailed(), 'failed'],
    ['a connect timeout', new TimeoutError('Connection to 127.0.0.1:9 timed out.'), 'failed'],
    ['a closed client', new NetworkError('Client is closed.', { closed: true }), 'failed'],
    ['a serialisation error', new UserError('Failed to serialize a message.'), 'failed'],
    ['a connection closed in flight', closed(), 'unknown'],
    ['a request timeout', new TimeoutError('Request timed out'), 'unknown'],
    ['an unrecognised error', new Error('boom'), 'unknown'],
    [
      'retries that never connected',
      new MultipleErrors('produce failed 3 times.', [connectFailed(), connectFailed(), connectFailed()]),
      'failed',
    ],
    [
      'retries after an in-flight close',
      new MultipleErrors('produce failed 2 times.', [closed(), connectFailed()]),
      'unknown',
    ],
    [
      'a client closed while retrying an in-flight close',
      new MultipleErrors('x', [closed(), new UserError('Client closed while retrying produce.')]),
      'unknown',
    ],
  ])('%s -> %s', (_name, error, expected) => {
    expect(produceOutcome(error, T)(0)).toBe(expected);
  });

  it('a broker answer: code 0 partitions are acked, pre-append rejections failed, post-append errors unknown', () => {
    // 10 MESSAGE_TOO_LARGE (rejected), 7 REQUEST_TIMED_OUT (appended on the leader, ISR not confirmed),
    // 20 NOT_ENOUGH_REPLICAS_AFTER_APPEND, 19 NOT_ENOUGH_REPLICAS (rejected), 29 TOPIC_AUTHORIZATION_FAILED
    const of = produceOutcome(response({ 0: 0, 1: 10, 2: 7, 3: 20, 4: 19, 5: 29 }), T);
    expect([0, 1, 2, 3, 4, 5].map(of)).toEqual(['acked', 'failed', 'unknown', 'unknown', 'failed', 'failed']);
    // a partition the answer does not mention proves nothing
    expect(of(9)).toBe('unknown');
  });

  it('a rejection after an ambiguous attempt is unknown (the first attempt may have landed)', () => {
    const of = produceOutcome(new MultipleErrors('produce failed 2 times.', [closed(), response({ 0: 6, 1: 0 })]), T);
    expect(of(0)).toBe('unknown');
    expect(of(1)).toBe('acked');
    const definite = produceOutcome(new MultipleErrors('x', [connectFailed(), response({ 0: 6 })]), T);
    expect(definite(0)).toBe('failed');
  });

  it('describeError names the broker codes and stays short', () => {
    expect(describeError(response({ 0: 10 }))).toMatch(/MESSAGE_TOO_LARGE/);
    const many = new MultipleErrors(
      'x',
      Array.from({ length: 50 }, (_, i) => new NetworkError(`Connection to h:${i} failed.`)),
    );
    expect(describeError(many).length).toBeLessThanOrEqual(300);
  });
});
