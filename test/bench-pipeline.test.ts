/**
 * `streamproof bench pipeline --json` through the CLI, on the stack it starts itself, kept short: one probe of the
 * reference pipeline at a rate it keeps up with, the probe at half of it, and the Kafka Streams exactly_once_v2 peer
 * at both rates (through the harness's own copy certification). What is checked is the document and that every
 * number in it is real: the probes saw every conversion with no duplicate, the peer copied every acked record once
 * (its run's verdict), the ratio is the sustained rate over the raw produce rate of the same run. No timing
 * thresholds: the machine is shared. The full search (`bench pipeline` without --pipeline-rate) is the documented
 * benchmark (docs/reference-pipeline.md).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'bin', 'streamproof.js');

describe('streamproof bench pipeline (CLI)', () => {
  it('one probe, its half, the raw produce rate and the Kafka Streams peer at both rates', () => {
    const res = spawnSync(
      process.execPath,
      [cli, 'bench', 'pipeline', '--json', '--pipeline-rate', '2000', '--seconds', '4'],
      { cwd: root, encoding: 'utf8', timeout: 600_000, env: { ...process.env, CI: 'true' } },
    );
    expect(res.status, res.stderr.slice(-3000)).toBe(0);
    const doc = JSON.parse(res.stdout);
    const p = doc.pipeline;
    // Whether a 4 s probe counts as sustained (kept up, p95 under 2 s) depends on the machine's moment: a cold start
    // on 2 shared cores has missed it once. Both outcomes are checked for what they must say; neither is skipped.
    const first = p.probes[0];
    expect(first.offeredPerSec).toBe(2000);
    if (first.sustained) {
      expect(p.probes.map((x: { offeredPerSec: number }) => x.offeredPerSec)).toEqual([2000, 1000]);
      expect(p.maxSustainedPerSec).toBe(2000);
      expect(p.atMax.offeredPerSec).toBe(2000);
      expect(p.atHalf.offeredPerSec).toBe(1000);
      expect(p.ratioToRawProduce).toBeCloseTo(2000 / p.rawProduceRecordsPerSec, 3);
    } else {
      expect(p.probes).toHaveLength(1);
      expect(p.maxSustainedPerSec).toBeNull();
      expect(p.atHalf).toBeNull();
      expect(p.firstNotSustained.offeredPerSec).toBe(2000);
      expect(p.ratioToRawProduce).toBeNull();
      expect(res.stderr).toMatch(/pipeline: 2000\/s → processed \d+\/s, t2t p95 \d+ ms: not sustained/);
    }
    for (const probe of p.probes) {
      expect(probe.duplicatedRecords).toBe(0);
      if (probe.sustained) expect(probe.conversions.observed).toBe(probe.conversions.sent);
      else expect(probe.conversions.observed).toBeLessThanOrEqual(probe.conversions.sent);
      expect(probe.conversions.sent).toBeGreaterThan(0);
      expect(probe.latencyMs.p50).toBeLessThanOrEqual(probe.latencyMs.p99);
    }
    expect(p.rawProduceRecordsPerSec).toBeGreaterThan(0);
    expect(p.peer.skipped, JSON.stringify(p.peer)).toBeUndefined();
    expect(p.peer.points.map((x: { offeredPerSec: number }) => x.offeredPerSec)).toEqual(
      first.sustained ? [1000, 2000] : [2000],
    );
    for (const peer of p.peer.points) {
      expect(peer.verdict, JSON.stringify(peer)).toBe('pass');
      expect(peer.acked).toBeGreaterThan(0);
      expect(peer.observed).toBe(peer.acked);
      expect(peer.lost).toBe(0);
      expect(peer.duplicated).toBe(0);
    }
  });

  it('a bad --pipeline-rate is refused with exit 64 naming the flag, before any stack starts', () => {
    const res = spawnSync(process.execPath, [cli, 'bench', 'pipeline', '--pipeline-rate', 'fast'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(res.status).toBe(64);
    expect(res.stderr).toContain('--pipeline-rate');
  });
});
