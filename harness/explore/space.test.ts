import { describe, expect, it } from 'vitest';
import { validateFault } from '../faults/index.ts';
import { validateScenario } from '../runner/scenario.ts';
import { parseDuration } from '../util/duration.ts';
import { StreamproofError } from '../util/errors.ts';
import { parseReplay, shellWords, withFlags } from './replay.ts';
import { drawSchedules, exploreSpace, lastingMs } from './space.ts';

const raw = (extra: Record<string, unknown> = {}, brokers = 1) => ({
  name: 'x',
  sut: { command: 'node copier.js', contract: 'copy' },
  stack: { brokers },
  load: { rate: 100, duration: '20s' },
  ...extra,
});
const sc = (brokers: 1 | 3 = 1) => validateScenario(raw({}, brokers));

const space = {
  faults: { min: 2, max: 5 },
  space: [
    { kind: 'pause', target: 'sut', for: ['300ms', '2500ms'] },
    { kind: 'latency', target: ['sut->kafka', 'sut->broker:1'], latencyMs: [20, 500], for: ['1s', '4s'] },
    { kind: 'kill', target: 'sut', restartAfter: { oneOf: ['500ms', '1s'] } },
  ],
};

function invalid(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(StreamproofError);
    expect((err as StreamproofError).code).toBe('INVALID_SCENARIO');
    return (err as Error).message;
  }
  throw new Error('expected an error');
}

describe('exploreSpace and drawSchedules', () => {
  it('draws valid schedules within the space and the load, the same for the same seed', () => {
    const s = exploreSpace(space, sc());
    expect(s.source).toBe('scenario');
    const a = drawSchedules(s, 20_000, 42, 50);
    expect(a).toEqual(drawSchedules(s, 20_000, 42, 50));
    expect(a).not.toEqual(drawSchedules(s, 20_000, 43, 50));
    for (const faults of a) {
      expect(faults.length).toBeGreaterThanOrEqual(2);
      expect(faults.length).toBeLessThanOrEqual(5);
      const ats = faults.map((f) => parseDuration(f.at, 'at'));
      expect(ats).toEqual([...ats].sort((x, y) => x - y));
      faults.forEach((f, i) => {
        validateFault(f, `faults[${i}]`, { brokers: 1, sutInstances: 1 });
        expect(f.name).toBe(`f${i + 1}-${f.kind}`);
        // Every fault ends within the load.
        expect(parseDuration(f.at, 'at') + (lastingMs(f) ?? 0)).toBeLessThanOrEqual(20_000);
        if (f.kind === 'latency') {
          expect(f.latencyMs).toBeGreaterThanOrEqual(20);
          expect(f.latencyMs).toBeLessThanOrEqual(500);
        }
        if (f.kind === 'kill') expect(['500ms', '1s']).toContain(f.restartAfter);
      });
    }
    // Every kind and both latency targets come up.
    const seen = new Set(a.flat().map((f) => `${f.kind} ${f.target}`));
    expect(seen).toEqual(new Set(['pause sut', 'latency sut->kafka', 'latency sut->broker:1', 'kill sut']));
  });

  it('without an explore block: the default space, with broker faults on 3 brokers only', () => {
    const one = exploreSpace(undefined, sc(1));
    expect(one.source).toBe('default');
    expect(one.templates.some((t) => t.targets.some((x) => x.startsWith('broker:')))).toBe(false);
    const three = exploreSpace(undefined, sc(3));
    expect(three.templates.some((t) => t.targets.includes('broker:3'))).toBe(true);
    // Kafka's roles on 3 brokers: the input's leader, the controller, the group coordinator, a leader move.
    expect(three.templates.some((t) => t.targets.includes('controller'))).toBe(true);
    expect(three.templates.some((t) => t.kind === 'leader-move' && t.targets.includes('leader:events/0'))).toBe(true);
    for (const faults of drawSchedules(three, 20_000, 1, 20)) {
      for (const [i, f] of faults.entries()) validateFault(f, `faults[${i}]`, { brokers: 3, sutInstances: 1 });
    }
  });

  it('names the bad field of a space (exit 64)', () => {
    expect(
      invalid(() => exploreSpace({ space: [{ kind: 'latency', target: 'sut->kafka', for: '1s' }] }, sc())),
    ).toMatch(/^explore\.space\[0\]\.latencyMs: /);
    expect(invalid(() => exploreSpace({ space: [{ kind: 'pause', target: 'sut', for: ['3s', '1s'] }] }, sc()))).toMatch(
      /^explore\.space\[0\]\.for\[1\]: expected a value >= the low end/,
    );
    expect(invalid(() => exploreSpace({ space: [{ kind: 'pause', target: 'sut', for: '30s' }] }, sc()))).toMatch(
      /^explore\.space\[0\]\.for: expected a duration shorter than the load/,
    );
    expect(
      invalid(() => exploreSpace({ space: [{ kind: 'pause', at: '1s', target: 'sut', for: '1s' }] }, sc())),
    ).toMatch(/^explore\.space\[0\]\.at: /);
    expect(invalid(() => exploreSpace({ space: [{ kind: 'kill', target: 'broker:3' }] }, sc()))).toMatch(
      /^explore\.space\[0\]\.target: /,
    );
    expect(invalid(() => exploreSpace({ faults: { min: 3, max: 2 } }, sc()))).toMatch(/^explore\.faults\.max: /);
    expect(invalid(() => exploreSpace({ runs: 3 }, sc()))).toMatch(/^explore\.runs: /);
    expect(invalid(() => exploreSpace({ space: [] }, sc()))).toMatch(/^explore\.space: /);
    // A scenario with an explore block still validates for `streamproof run`.
    expect(validateScenario(raw({ explore: space })).name).toBe('x');
  });
});

describe('replay commands', () => {
  it('reads back what the runner writes, quoting included', () => {
    expect(shellWords(`streamproof run 'my dir/s.json' --sut 'node -e '\\''x'\\''' --seed 7`)).toEqual([
      'streamproof',
      'run',
      'my dir/s.json',
      '--sut',
      "node -e 'x'",
      '--seed',
      '7',
    ]);
    expect(parseReplay('streamproof run s.json --contract copy --stack running --workers 2 --seed 7')).toEqual({
      file: 's.json',
      contract: 'copy',
      stack: 'running',
      workers: 2,
      seed: 7,
    });
    expect(() => parseReplay('streamproof run s.json')).toThrow(/no --seed/);
    expect(() => parseReplay('streamproof certify --seed 1')).toThrow(/streamproof run/);
    expect(() => parseReplay('streamproof run s.json --bogus 1 --seed 1')).toThrow(/unexpected --bogus/);
  });

  it('applies --sut and --contract to the raw scenario as `run` does', () => {
    const r = withFlags(raw({ sut: { command: 'a', contract: 'lineage', lineage: { id: 'field:x' } } }), {
      sut: 'b',
      contract: 'copy',
    }) as { sut: Record<string, unknown> };
    expect(r.sut).toEqual({ command: 'b', contract: 'copy' });
  });
});
