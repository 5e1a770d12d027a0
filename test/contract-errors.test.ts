/**
 * Contracts given bad input, through the CLI: what is wrong in the scenario is said with the field's path, never
 * passed off as the pipeline's anomaly.
 * - a `where` on a field the events do not have: exit 64 before anything starts;
 * - a model module that does not exist: exit 64 before the stack starts (MODEL_INVALID);
 * - a lineage id that no output record has (a real run of a transactional copier that carries `event_id`, judged
 *   by `field:source_id`): exit 3, verdict unknown, the reason naming `sut.lineage.id` and showing an output record.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'bin', 'streamproof.js');

function run(scenario: object, timeout = 60_000) {
  const dir = mkdtempSync(join(tmpdir(), 'streamproof-contract-errors-'));
  const file = join(dir, 'scenario.json');
  writeFileSync(file, JSON.stringify(scenario));
  const res = spawnSync(process.execPath, [cli, 'run', file, '--out', join(dir, 'out')], {
    cwd: root,
    encoding: 'utf8',
    timeout,
    env: { ...process.env, CI: 'true' },
  });
  const resultFile = join(dir, 'out', 'result.json');
  const result = existsSync(resultFile) ? JSON.parse(readFileSync(resultFile, 'utf8')) : undefined;
  return { code: res.status, stderr: `${res.stdout}\n${res.stderr}`, result };
}

const copier = 'node --import tsx test/fixtures/copiers/transactional.ts';
const base = {
  name: 'contract-errors',
  stack: { brokers: 1, partitions: 2, registry: false },
  events: { users: 50, seed: 5 },
  load: { rate: 100, duration: '3s' },
  drain: { quiet: '2s', timeout: '30s' },
};

describe('contracts given bad input', () => {
  it('a where on a field the events do not have: exit 64 naming it', () => {
    const r = run({
      ...base,
      sut: {
        command: copier,
        contract: 'lineage',
        lineage: { id: 'field:event_id', expect: { where: { kind: ['click'] } } },
      },
    });
    expect(r.code, r.stderr).toBe(64);
    expect(r.stderr).toContain('scenario.sut.lineage.expect.where.kind');
    expect(r.stderr).toMatch(/no field "kind"/);
  });

  it('a model module that does not exist: exit 64 before the stack starts', () => {
    const r = run({ ...base, sut: { command: copier, contract: { model: './no-such-model.ts' } } });
    expect(r.code, r.stderr).toBe(64);
    expect(r.stderr).toMatch(/sut\.contract\.model: .*no-such-model\.ts: no such file/);
    expect(r.result?.error?.code, r.stderr).toBe('MODEL_INVALID');
    expect(r.result?.error?.phase, r.stderr).toBe('stack');
  });

  it('a lineage id that no output has: unknown (exit 3) with the reason, not a failed pipeline', () => {
    const r = run(
      { ...base, sut: { command: copier, contract: 'lineage', lineage: { id: 'field:source_id' } } },
      180_000,
    );
    expect(r.code, r.stderr).toBe(3);
    expect(r.result?.verdict, r.stderr).toBe('unknown');
    expect(r.result?.error?.code, r.stderr).toBe('LINEAGE_ID_NOT_FOUND');
    expect(r.result?.error?.message, r.stderr).toMatch(
      /sut\.lineage\.id: none of the \d+ output record\(s\) has field:source_id .*event_id/,
    );
    expect(r.stderr).toContain('--seed 5');
  });
});
