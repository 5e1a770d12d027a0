import { describe, expect, it } from 'vitest';
import { brokerProcessFault, outDirFlag, replayBase, seedFlag, shellQuote, stackFlag } from './flags.ts';

describe('shared CLI flags', () => {
  it('--stack: own by default, running, anything else names the flag and both choices', () => {
    expect(stackFlag(undefined, 'x')).toBe('own');
    expect(stackFlag('running', 'x')).toBe('running');
    expect(() => stackFlag('yours', 'start a fresh stack for this run')).toThrow(
      /^--stack: expected own \(start a fresh stack for this run\) or running \(attach to `streamproof stack up`\), got "yours"$/,
    );
  });

  it('--seed: an integer from 0, named when bad', () => {
    expect(seedFlag(undefined)).toBeUndefined();
    expect(seedFlag('7')).toBe(7);
    expect(() => seedFlag('-1')).toThrow(/^--seed: /);
    expect(() => seedFlag('x')).toThrow(/^--seed: /);
  });

  it('--out: the flag, else out/<name>-<timestamp>', () => {
    expect(outDirFlag('here', 'smoke')).toBe('here');
    expect(outDirFlag(undefined, 'smoke')).toMatch(/^out\/smoke-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z$/);
  });

  it('replay commands quote what a shell would split or expand', () => {
    expect(shellQuote('scenarios/copy-kill.json')).toBe('scenarios/copy-kill.json');
    expect(shellQuote("node my copier's.js")).toBe(`'node my copier'\\''s.js'`);
    expect(replayBase('a b.json', { sut: 'node x.js', contract: 'copy', stack: 'running', workers: 2 })).toBe(
      "streamproof run 'a b.json' --sut 'node x.js' --contract copy --stack running --workers 2",
    );
    expect(replayBase('s.json', { stack: 'own' })).toBe('streamproof run s.json');
  });

  it('a broker kill or restart is found; other faults and SUT kills are not', () => {
    expect(brokerProcessFault([{ kind: 'kill', target: 'sut:0' }, { kind: 'latency' }])).toBe(-1);
    expect(
      brokerProcessFault([
        { kind: 'pause', target: 'broker:1' },
        { kind: 'restart', target: 'broker:0' },
      ]),
    ).toBe(1);
  });
});
