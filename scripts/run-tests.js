#!/usr/bin/env node
// The project's test command: vitest over unit and integration projects, then one closing line
// "N passed, N failed, N skipped" that any CI can read. Exits with vitest's status.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const out = join(root, 'test-artifacts', 'vitest.json');
mkdirSync(join(root, 'test-artifacts'), { recursive: true });
const args = [
  'vitest',
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${out}`,
  ...process.argv.slice(2),
];
const res = spawnSync('npx', args, { cwd: root, stdio: 'inherit' });
let summary = 'no test results were written';
if (existsSync(out)) {
  const r = JSON.parse(readFileSync(out, 'utf8'));
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  summary = `${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`;
}
process.stdout.write(`\n${summary}\n`);
process.exit(res.status ?? 1);
