#!/usr/bin/env node
// Corrections to pinned dependencies that the harness's verdicts depend on. Each patch names the exact text it
// replaces and fails loudly when that text is not there, so a dependency upgrade cannot silently drop a fix. See
// docs/decisions/kafka-client.md ("Patched: read_committed").
//
// Where it runs: `prepare` (after `npm install`/`npm ci` in a checkout: the tests run on the patched copy) and
// `prepack` with --strict (before `npm pack`/`npm publish`). Never in a user's tree: the published package carries
// the patched @platformatic/kafka in its tarball (package.json "bundleDependencies"), so installing streamproof
// writes nothing into anyone's node_modules.
//
//   node scripts/patch-deps.js            patch; a dependency that is not installed is skipped with a note
//   node scripts/patch-deps.js --strict   patch; a dependency that is not installed is an error (pack, CI)
//   node scripts/patch-deps.js --check    change nothing; exit 1 unless every patch is in place
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const strict = process.argv.includes('--strict') || process.argv.includes('--check');
const checkOnly = process.argv.includes('--check');

/** The installed file of a dependency where Node resolves it from streamproof (nested or hoisted), or undefined. */
function resolveFile(pkg, file) {
  const dirs = createRequire(join(root, 'package.json')).resolve.paths(pkg) ?? [];
  const dir = dirs.map((d) => join(d, pkg)).find((d) => existsSync(join(d, 'package.json')));
  return dir === undefined ? undefined : join(dir, file);
}

const patches = [
  {
    // @platformatic/kafka 1.35.0: read_committed lets records of aborted transactions through when the abort marker
    // is not in the same fetch response, or when one producer id aborted twice in one response (a Map keyed by
    // producer id keeps only the last range). Replaced with the Java client's algorithm: walk the batches in offset
    // order; a producer enters the aborted set when its aborted transaction's first offset is reached, its data
    // batches are skipped while it is in the set, and its abort marker takes it out. Control batches stay (the
    // messages stream filters them and needs them to advance offsets).
    pkg: '@platformatic/kafka',
    file: 'dist/clients/consumer/consumer.js',
    marker: 'streamproof-patch: aborted-transactions',
    from: `                if (partition.abortedTransactions.length) {
                    const abortedRanges = new Map();`,
    to: `                if (partition.abortedTransactions.length) { // streamproof-patch: aborted-transactions
                    const aborted = [...partition.abortedTransactions].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
                    const active = new Set();
                    let next = 0;
                    partition.records = partition.records.filter(batch => {
                        while (next < aborted.length && aborted[next].firstOffset <= batch.firstOffset) {
                            active.add(aborted[next].producerId);
                            next++;
                        }
                        if (batch.attributes & IS_CONTROL) {
                            if (batch.records[0]?.key?.readInt16BE(2) === 0) active.delete(batch.producerId);
                            return true;
                        }
                        return !active.has(batch.producerId);
                    });
                }
                if (false) {
                    const abortedRanges = new Map();`,
  },
];

let failed = false;
for (const p of patches) {
  const name = `${p.pkg}/${p.file}`;
  const path = resolveFile(p.pkg, p.file);
  let text;
  try {
    text = readFileSync(path ?? '', 'utf8');
  } catch {
    if (strict) {
      console.error(`patch-deps: ${name} not found (dependencies not installed?)`);
      failed = true;
    } else {
      console.error(`patch-deps: ${name} not installed here; nothing to patch`);
    }
    continue;
  }
  const where = relative(root, path);
  if (text.includes(p.marker)) {
    if (checkOnly) console.error(`patch-deps: ${where}: ${p.marker} in place`);
    continue;
  }
  if (checkOnly) {
    console.error(`patch-deps: ${where} is not patched (${p.marker})`);
    failed = true;
    continue;
  }
  if (!text.includes(p.from)) {
    console.error(
      `patch-deps: ${where} does not contain the text this patch replaces; the dependency changed: review the patch`,
    );
    failed = true;
    continue;
  }
  writeFileSync(path, text.replace(p.from, p.to));
  console.error(`patch-deps: patched ${where} (${p.marker})`);
}
process.exit(failed ? 1 : 0);
