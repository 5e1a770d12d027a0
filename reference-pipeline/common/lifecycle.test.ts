import { describe, expect, it } from 'vitest';
import { turnTaker } from './lifecycle.ts';

/** A job that holds the event loop for `ms`, as planning a large batch does. */
const busy = (order: string[], name: string, ms: number, onStart?: () => void) => () => {
  onStart?.();
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // hold the event loop
  }
  order.push(name);
  return name;
};

describe('turnTaker', () => {
  it('runs jobs in order, one per turn, so a timer due during one runs before the next', async () => {
    const inTurn = turnTaker();
    const order: string[] = [];
    const first = busy(order, 'a', 30, () => setTimeout(() => order.push('timer'), 0));
    const results = await Promise.all([inTurn(first), inTurn(busy(order, 'b', 30)), inTurn(busy(order, 'c', 1))]);
    expect(results).toEqual(['a', 'b', 'c']);
    expect(order).toEqual(['a', 'timer', 'b', 'c']);
  });

  it('a job that throws rejects its own promise and does not stop the next', async () => {
    const inTurn = turnTaker();
    const failing = inTurn(() => {
      throw new Error('boom');
    });
    const next = inTurn(() => 'next');
    await expect(failing).rejects.toThrow('boom');
    await expect(next).resolves.toBe('next');
  });
});
