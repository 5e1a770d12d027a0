import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { issueScenario } from '../test/fixtures/issue-scenario.ts';
import { report, resolveScenario } from './api.ts';
import { validateScenario } from './runner/scenario.ts';

const root = join(import.meta.dirname, '..');

describe('resolveScenario: what run() accepts', () => {
  it('a file, an object as written and a validated scenario resolve to the same Scenario', async () => {
    const file = join(root, 'scenarios', 'copy-kill.json');
    const fromFile = await resolveScenario(file);
    expect(fromFile.file).toBe(file);
    const fromInput = await resolveScenario(issueScenario as never);
    expect(fromInput.file).toBeUndefined();
    const validated = validateScenario(issueScenario);
    const fromValidated = await resolveScenario(validated);
    expect(fromValidated.scenario).toBe(validated);
    expect(fromInput.scenario).toEqual(validated);
    expect(fromFile.scenario.load.durationMs).toBe(20_000);
  });

  it('sut overrides the command of each form', async () => {
    for (const s of [
      join(root, 'scenarios', 'copy-kill.json'),
      issueScenario as never,
      validateScenario(issueScenario),
    ]) {
      expect((await resolveScenario(s, 'node other.js')).scenario.sut.command).toBe('node other.js');
    }
  });

  it('a .ts scenario file outside an ESM package (CommonJS to tsx) and a bad field named by its path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'streamproof-api-'));
    writeFileSync(
      join(dir, 's.ts'),
      `const d: string = '5s';\nexport default { name: 'ts', sut: { command: 'x', contract: 'copy' }, load: { rate: 10, duration: d } };\n`,
    );
    expect((await resolveScenario(join(dir, 's.ts'))).scenario.load.durationMs).toBe(5000);
    await expect(resolveScenario({ ...issueScenario, load: { rate: -1, duration: '1s' } } as never)).rejects.toThrow(
      /load\.rate/,
    );
  });
});

describe('report', () => {
  it('renders a stored result in each format and writes it when asked', async () => {
    const file = join(root, 'test', 'fixtures', 'results', 'copy-kill-autocommit.json');
    expect(await report(file)).toMatch(/copy-kill/);
    const out = join(mkdtempSync(join(tmpdir(), 'streamproof-api-')), 'junit.xml');
    const xml = await report(file, { format: 'junit', out });
    expect(xml).toMatch(/^<\?xml/);
  });
});
