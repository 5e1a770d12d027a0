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
    // messages stream filters them and needs them to advance offsets). A skipped batch stays too, emptied of its
    // records: the stream moves its fetch position to the end of the last batch of a response, so a response made
    // only of aborted data (an aborted transaction larger than a fetch, or one that crosses a log segment: a fetch
    // reads one segment) would otherwise leave the position where it was and the consumer would fetch it forever.
    pkg: '@platformatic/kafka',
    file: 'dist/clients/consumer/consumer.js',
    marker: 'streamproof-patch: aborted-transactions-v2',
    from: `                if (partition.abortedTransactions.length) {
                    const abortedRanges = new Map();`,
    to: `                if (partition.abortedTransactions.length) { // streamproof-patch: aborted-transactions-v2
                    const aborted = [...partition.abortedTransactions].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
                    const active = new Set();
                    let next = 0;
                    partition.records = partition.records.map(batch => {
                        while (next < aborted.length && aborted[next].firstOffset <= batch.firstOffset) {
                            active.add(aborted[next].producerId);
                            next++;
                        }
                        if (batch.attributes & IS_CONTROL) {
                            if (batch.records[0]?.key?.readInt16BE(2) === 0) active.delete(batch.producerId);
                            return batch;
                        }
                        return active.has(batch.producerId) ? { ...batch, records: [] } : batch;
                    });
                }
                if (false) {
                    const abortedRanges = new Map();`,
  },
  {
    // @platformatic/kafka 1.35.0: a produce request's records are encoded one small Buffer per field (a Writer, a
    // DynamicBuffer and an allocUnsafe per varint, per record), then joined: at tens of thousands of records a second
    // that allocation is most of a transactional pipeline's garbage (docs/reference-pipeline.md, "Where the time
    // goes"). Replaced by one pass that sizes every record, one Buffer for all of them, and a second pass that writes
    // them in place: the same bytes (record format v2: length, attributes 0, timestamp delta, offset delta, key,
    // value, headers; zig-zag varints; null key/value/header as length -1). Timestamp deltas stay in milliseconds
    // from the first record, as before. Performance only; test/record-encoding.test.ts compares it byte for byte
    // with the client's own createRecord.
    pkg: '@platformatic/kafka',
    file: 'dist/protocol/records.js',
    marker: 'streamproof-patch: one-buffer-records',
    from: `    let buffer = new DynamicBuffer();
    for (let i = 0; i < messages.length; i++) {
        let ts = messages[i].timestamp ?? now;
        /* c8 ignore next 3 - Hard to test */
        if (typeof ts === 'number') {
            ts = BigInt(ts);
        }
        messages[i].timestamp = ts;
        if (ts > maxTimestamp)
            maxTimestamp = ts;
        const record = createRecord(messages[i], i, firstTimestamp);
        buffer.appendFrom(record.dynamicBuffer);
    }`,
    to: `    // streamproof-patch: one-buffer-records
    const zz = (v) => (v >= 0 ? v * 2 : -v * 2 - 1);
    const uvarSize = (u) => { let n = 1; while (u >= 128) { u = Math.floor(u / 128); n++; } return n; };
    const bytesSize = (b) => (b == null ? 1 : uvarSize(zz(b.length)) + b.length);
    const writeUvar = (out, pos, u) => { while (u >= 128) { out[pos++] = (u % 128) | 128; u = Math.floor(u / 128); } out[pos++] = u; return pos; };
    const writeBytes = (out, pos, b) => { if (b == null) { out[pos++] = 1; return pos; } pos = writeUvar(out, pos, zz(b.length)); b.copy(out, pos); return pos + b.length; };
    const bodies = new Array(messages.length);
    const deltas = new Array(messages.length);
    let total = 0;
    for (let i = 0; i < messages.length; i++) {
        const m = messages[i];
        let ts = m.timestamp ?? now;
        /* c8 ignore next 3 - Hard to test */
        if (typeof ts === 'number') {
            ts = BigInt(ts);
        }
        m.timestamp = ts;
        if (ts > maxTimestamp)
            maxTimestamp = ts;
        const delta = Number(ts - firstTimestamp);
        deltas[i] = delta;
        let body = 1 + uvarSize(zz(delta)) + uvarSize(zz(i)) + bytesSize(m.key) + bytesSize(m.value);
        const h = m.headers;
        body += uvarSize(zz(h == null ? 0 : h.size));
        if (h != null) for (const [k, v] of h) body += bytesSize(k) + bytesSize(v);
        bodies[i] = body;
        total += uvarSize(zz(body)) + body;
    }
    const out = Buffer.allocUnsafe(total);
    let pos = 0;
    for (let i = 0; i < messages.length; i++) {
        const m = messages[i];
        pos = writeUvar(out, pos, zz(bodies[i]));
        out[pos++] = 0;
        pos = writeUvar(out, pos, zz(deltas[i]));
        pos = writeUvar(out, pos, zz(i));
        pos = writeBytes(out, pos, m.key);
        pos = writeBytes(out, pos, m.value);
        const h = m.headers;
        pos = writeUvar(out, pos, zz(h == null ? 0 : h.size));
        if (h != null) for (const [k, v] of h) { pos = writeBytes(out, pos, k); pos = writeBytes(out, pos, v); }
    }
    let buffer = new DynamicBuffer(out);`,
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
