/** The layer rule on small trees written for each case: what it lets through, and what it names and why. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkLayers, format, unitOf } from './check-layers.mjs';

const base = mkdtempSync(join(tmpdir(), 'streamproof-layers-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
let n = 0;

/** A tree of files (path -> source) in a fresh directory. */
function tree(files: Record<string, string>): string {
  const root = join(base, String(n++));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

/** A well-layered tree, and the files each case adds to it. */
const layered = {
  'harness/util/errors.ts': 'export class E extends Error {}\n',
  'harness/history/history.ts': "import { E } from '../util/errors.ts';\nexport const h = E;\n",
  'harness/checkers/exactly-once.ts': "import { h } from '../history/history.ts';\nexport const c = h;\n",
  'harness/runner/result.ts': "import type { c } from '../checkers/exactly-once.ts';\nexport type R = typeof c;\n",
  'harness/runner/run.ts': "import { c } from '../checkers/exactly-once.ts';\nexport const run = c;\n",
  'harness/certify/certify.ts': "import { run } from '../runner/run.ts';\nexport const certify = run;\n",
  'harness/cli/main.ts':
    "const { certify } = await import('../certify/certify.ts');\nimport { md } from '../../reports/markdown.ts';\nexport { certify, md };\n",
  'reports/markdown.ts':
    "import type { R } from '../harness/runner/result.ts';\nimport { E } from '../harness/util/errors.ts';\nexport const md = (r: R) => String(r) + E.name;\n",
  'reference-pipeline/attributor/main.ts': "import { attribute } from '../model/attribute.ts';\nattribute();\n",
  'reference-pipeline/model/attribute.ts': 'export function attribute() {}\n',
  'harness/runner/attribution-contract.ts':
    "import { attribute } from '../../reference-pipeline/model/attribute.ts';\nexport const a = attribute;\n",
  'harness/runner/run.test.ts': "import '../../reference-pipeline/attributor/main.ts';\nimport '../cli/main.ts';\n",
};

const rules = (files: Record<string, string>) =>
  checkLayers(tree({ ...layered, ...files }), []).violations.map((v) => `${v.rule} ${v.file}`);

describe('check-layers', () => {
  it('units: harness folders, harness/api, reports, generators, the attribution model, the reference pipeline', () => {
    expect(unitOf('harness/runner/run.ts')).toBe('harness/runner');
    expect(unitOf('harness/api.ts')).toBe('harness/api');
    expect(unitOf('reports/html.ts')).toBe('reports');
    expect(unitOf('reference-pipeline/model/credit.ts')).toBe('reference-pipeline/model');
    expect(unitOf('reference-pipeline/collector/main.ts')).toBe('reference-pipeline');
  });

  it('a well-layered tree passes: top-down imports, dynamic ones, reports on types and the result model, tests aside', () => {
    expect(checkLayers(tree(layered), []).violations).toEqual([]);
  });

  it('reports: runner code, even through import() or a re-export, is named; a type import is not', () => {
    expect(
      rules({ 'reports/html.ts': "import { run } from '../harness/runner/run.ts';\nexport const x = run;\n" }),
    ).toEqual(['reports reports/html.ts']);
    expect(rules({ 'reports/html.ts': "export const x = () => import('../harness/stack/stack.ts');\n" })).toEqual([
      'reports reports/html.ts',
    ]);
    expect(rules({ 'reports/html.ts': "export { run } from '../harness/runner/run.ts';\n" })).toEqual([
      'reports reports/html.ts',
    ]);
    expect(
      rules({
        'reports/html.ts': "import { type run } from '../harness/runner/run.ts';\nexport type X = typeof run;\n",
      }),
    ).toEqual([]);
  });

  it('a lower layer importing a higher one: history -> runner, checkers -> runner, runner -> certify or cli', () => {
    expect(
      rules({ 'harness/history/bad.ts': "import { run } from '../runner/run.ts';\nexport const x = run;\n" }),
    ).toEqual(expect.arrayContaining(['layer harness/history/bad.ts']));
    expect(rules({ 'harness/checkers/bad.ts': "export type X = import('../runner/result.ts').R;\n" })).toEqual([
      'layer harness/checkers/bad.ts',
      'cycle harness/checkers/bad.ts',
    ]);
    expect(rules({ 'harness/runner/bad.ts': "export const x = () => import('../certify/certify.ts');\n" })).toEqual(
      expect.arrayContaining(['layer harness/runner/bad.ts']),
    );
    expect(rules({ 'harness/runner/bad.ts': "import '../../reports/markdown.ts';\n" })).toEqual(
      expect.arrayContaining(['layer harness/runner/bad.ts']),
    );
    expect(rules({ 'harness/newthing/x.ts': "import { E } from '../util/errors.ts';\nexport const x = E;\n" })).toEqual(
      ['layer harness/newthing/x.ts'],
    );
  });

  it('the harness and the reference pipeline never import each other; the attribution model imports nothing', () => {
    expect(
      rules({ 'harness/runner/reference-sut.ts': "import '../../reference-pipeline/attributor/main.ts';\n" }),
    ).toEqual(['separate harness/runner/reference-sut.ts']);
    expect(
      rules({ 'reference-pipeline/index.ts': "import { E } from '../harness/util/errors.ts';\nexport const x = E;\n" }),
    ).toEqual(['separate reference-pipeline/index.ts']);
    expect(rules({ 'reference-pipeline/model/x.ts': "import '../attributor/main.ts';\n" })).toEqual(
      expect.arrayContaining(['separate reference-pipeline/model/x.ts']),
    );
  });

  it('a cycle between folders is named with the imports that close it', () => {
    const { violations } = checkLayers(
      tree({
        ...layered,
        'harness/load/a.ts': "import '../workers/b.ts';\n",
        'harness/workers/b.ts': "import '../load/a.ts';\n",
      }),
      [],
    );
    expect(violations.map(format)).toEqual([
      '[cycle] an import cycle between harness/load, harness/workers: harness/load -> harness/workers (harness/load/a.ts:1); harness/workers -> harness/load (harness/workers/b.ts:1)',
    ]);
  });

  it('a known violation is tolerated and reported as such, and its import closes no cycle', () => {
    const root = tree({ ...layered, 'reference-pipeline/index.ts': "import '../harness/util/errors.ts';\n" });
    const r = checkLayers(root, [{ from: 'reference-pipeline/index.ts', to: 'harness/util/errors.ts', why: 'owner' }]);
    expect(r.violations).toEqual([]);
    expect(r.tolerated.map((v) => `${v.rule} ${v.file}:${v.line}`)).toEqual(['separate reference-pipeline/index.ts:1']);
  });
});
