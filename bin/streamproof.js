#!/usr/bin/env node
// The `streamproof` command. Two layouts, one file:
// - in the published package this file is dist/bin/streamproof.js (scripts/build.mjs copies it there) and runs the
//   compiled JavaScript beside it (dist/harness/cli/main.js);
// - in a checkout it is bin/streamproof.js, there is no compiled main.js beside it, and it runs the TypeScript
//   sources through tsx, so `node bin/streamproof.js ...` always runs what is in the working tree (never a stale dist/).
import { existsSync } from 'node:fs';

const compiled = new URL('../harness/cli/main.js', import.meta.url);
let cli;
if (existsSync(compiled)) {
  ({ cli } = await import(compiled.href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ cli } = await import('../harness/cli/main.ts'));
}
cli(process.argv.slice(2));
