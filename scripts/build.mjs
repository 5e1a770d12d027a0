#!/usr/bin/env node
// `npm run build`: the published package in dist/. The TypeScript sources compile to JavaScript + declarations
// (tsconfig.build.json) in the same layout, and the files the code finds next to itself at run time are copied to the
// same relative places: the command (bin/streamproof.js), the stack's lifeline.sh, the HTML report's client script,
// and the bundled scenarios (certify's default suite). A checkout never needs dist/: bin/streamproof.js and the tests
// run the sources.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });

const tsc = spawnSync(
  process.execPath,
  [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
  {
    cwd: root,
    stdio: 'inherit',
  },
);
if (tsc.status !== 0) {
  console.error('build: tsc failed');
  process.exit(1);
}

const assets = [
  ['bin/streamproof.js', 'bin/streamproof.js'],
  ['harness/stack/lifeline.sh', 'harness/stack/lifeline.sh'],
  ['reports/html-client.js', 'reports/html-client.js'],
  ['scenarios', 'scenarios'],
];
for (const [from, to] of assets) {
  const src = join(root, from);
  if (!existsSync(src)) {
    console.error(`build: ${from} is missing`);
    process.exit(1);
  }
  cpSync(src, join(dist, to), { recursive: true, filter: (f) => !f.endsWith('.ts') });
}
chmodSync(join(dist, 'bin', 'streamproof.js'), 0o755);
chmodSync(join(dist, 'harness', 'stack', 'lifeline.sh'), 0o755);
console.error('build: dist/ written');
