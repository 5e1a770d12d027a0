import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './duration.ts';

describe('parseDuration', () => {
  it('reads the units scenarios use', () => {
    expect(parseDuration('250ms', 'x')).toBe(250);
    expect(parseDuration('5s', 'x')).toBe(5000);
    expect(parseDuration('1.5s', 'x')).toBe(1500);
    expect(parseDuration('2m', 'x')).toBe(120_000);
    expect(parseDuration('1h', 'x')).toBe(3_600_000);
    expect(parseDuration(42, 'x')).toBe(42);
  });
  it('names the path of a bad value', () => {
    expect(() => parseDuration('5 parsecs', 'faults[2].at')).toThrow(/faults\[2\]\.at: expected a duration like "10s"/);
    expect(() => parseDuration(-1, 'load.duration')).toThrow(/load\.duration/);
  });
  it('formats for people', () => {
    expect(formatDuration(250)).toBe('250ms');
    expect(formatDuration(1500)).toBe('1.5s');
  });
});
