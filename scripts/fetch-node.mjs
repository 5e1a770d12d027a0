#!/usr/bin/env node
// Fetches a Node.js runtime from the npm registry's node-<platform>-<arch> packages (the binaries the `node` package
// installs) into the cache, once, and prints the directory of its `node` binary. Usage:
//   node scripts/fetch-node.mjs 24.22.3        -> ~/.cache/streamproof/node/24.22.3/bin
// CI puts that directory first on PATH to run the suite on a supported Node (docs/decisions/runtime.md).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const version = process.argv[2];
if (!version || !/^\d+\.\d+\.\d+$/.test(version)) {
  process.stderr.write('usage: node scripts/fetch-node.mjs <version, e.g. 24.22.3>\n');
  process.exit(64);
}
const cache =
  process.env.STREAMPROOF_CACHE ?? join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'streamproof');
const dir = join(cache, 'node', version);
const bin = join(dir, 'bin');
if (!existsSync(join(bin, 'node'))) {
  const pkg = `node-${process.platform}-${process.arch}@${version}`;
  process.stderr.write(`[node] fetching ${pkg}\n`);
  mkdirSync(cache, { recursive: true }); // a fresh machine has no cache yet
  const tmp = mkdtempSync(join(cache, 'node-'));
  try {
    execFileSync('npm', ['pack', pkg, '--silent'], { cwd: tmp, stdio: ['ignore', 'ignore', 'inherit'] });
    const tgz = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
    if (!tgz) throw new Error(`npm pack ${pkg} wrote no tarball`);
    execFileSync('tar', ['xzf', tgz], { cwd: tmp });
    mkdirSync(join(cache, 'node'), { recursive: true });
    rmSync(dir, { recursive: true, force: true });
    renameSync(join(tmp, 'package'), dir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
const got = execFileSync(join(bin, 'node'), ['--version'], { encoding: 'utf8' }).trim();
if (got !== `v${version}`) {
  process.stderr.write(`[node] ${join(bin, 'node')} says ${got}, expected v${version}\n`);
  process.exit(3);
}
process.stdout.write(`${bin}\n`);
