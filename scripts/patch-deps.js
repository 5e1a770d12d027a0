#!/usr/bin/env node
// Corrections to pinned dependencies that the harness's verdicts depend on, applied after every install
// (package.json "postinstall" and .ci/run). Each patch names the exact text it replaces and fails loudly when that
// text is not there, so a dependency upgrade cannot silently drop a fix. See docs/decisions/kafka-client.md.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');

const patches = [
  {
    // @platformatic/kafka 1.35.0: read_committed lets records of aborted transactions through when the abort marker
    // is not in the same fetch response, or when one producer id aborted twice in one response (a Map keyed by
    // producer id keeps only the last range). Replaced with the Java client's algorithm: walk the batches in offset
    // order; a producer enters the aborted set when its aborted transaction's first offset is reached, its data
    // batches are skipped while it is in the set, and its abort marker takes it out. Control batches stay (the
    // messages stream filters them and needs them to advance offsets).
    file: 'node_modules/@platformatic/kafka/dist/clients/consumer/consumer.js',
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
  const path = join(root, p.file);
  let text;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    console.error(`patch-deps: ${p.file} not found (dependencies not installed?)`);
    failed = true;
    continue;
  }
  if (text.includes(p.marker)) continue;
  if (!text.includes(p.from)) {
    console.error(
      `patch-deps: ${p.file} does not contain the text this patch replaces; the dependency changed: review the patch`,
    );
    failed = true;
    continue;
  }
  writeFileSync(path, text.replace(p.from, p.to));
  console.error(`patch-deps: patched ${p.file} (${p.marker})`);
}
process.exit(failed ? 1 : 0);
