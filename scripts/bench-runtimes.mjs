#!/usr/bin/env node
// Side-by-side runtime comparison for docs/decisions/runtime.md: for each Node binary given, in alternating rounds
// (so machine load hits every runtime alike), the CLI's start-up time, the bulk generator's and the exactly-once
// checker's rates (`streamproof bench generators|checkers --json`, CPU-time normalised where the bench reports it).
// Prints medians and ratios against the first runtime. Usage:
//   node scripts/bench-runtimes.mjs [--rounds 3] [--json] /path/to/node20 /path/to/node24 ...
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'bin', 'streamproof.js');
const args = process.argv.slice(2);
let rounds = 3;
let json = false;
const nodes = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--rounds') rounds = Number(args[++i]);
  else if (args[i] === '--json') json = true;
  else nodes.push(args[i]);
}
if (nodes.length === 0 || !(rounds >= 1)) {
  process.stderr.write('usage: node scripts/bench-runtimes.mjs [--rounds N] [--json] NODE_BINARY...\n');
  process.exit(64);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const run = (node, argv) => execFileSync(node, [cli, ...argv], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });

const samples = new Map(nodes.map((n) => [n, { version: '', startupMs: [], metrics: {} }]));
const add = (s, k, v) => {
  s.metrics[k] ??= [];
  s.metrics[k].push(v);
};
for (let r = 0; r < rounds; r++) {
  for (const node of nodes) {
    const s = samples.get(node);
    s.version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
    process.stderr.write(`[runtimes] round ${r + 1}/${rounds}: ${s.version}\n`);
    for (let i = 0; i < 3; i++) {
      const t = process.hrtime.bigint();
      run(node, ['--help']);
      s.startupMs.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    const g = JSON.parse(run(node, ['bench', 'generators', '--json'])).generators;
    for (const c of g.results) add(s, `generator ${c.case} (events/CPU-s)`, c.eventsPerCpuSec);
    const c = JSON.parse(run(node, ['bench', 'checkers', '--json'])).checkers;
    add(s, 'exactly-once check (events/s)', c.eventsPerSec);
    add(s, 'history ingest (records/s)', c.recordIngestEventsPerSec);
  }
}

const first = samples.get(nodes[0]);
const rows = [];
const row = (metric, pick) => {
  const base = pick(first);
  rows.push({
    metric,
    values: nodes.map((n) => {
      const v = pick(samples.get(n));
      return {
        node: samples.get(n).version,
        median: Math.round(v * 100) / 100,
        ratio: Math.round((v / base) * 100) / 100,
      };
    }),
  });
};
row('CLI start-up, --help (ms)', (s) => median(s.startupMs));
for (const k of Object.keys(first.metrics)) row(k, (s) => median(s.metrics[k]));
if (json) process.stdout.write(`${JSON.stringify({ rounds, rows }, null, 2)}\n`);
else {
  const head = ['metric', ...nodes.map((n) => samples.get(n).version)];
  process.stdout.write(`| ${head.join(' | ')} |\n|${head.map(() => ' --- ').join('|')}|\n`);
  for (const r of rows) {
    process.stdout.write(
      `| ${r.metric} | ${r.values.map((v) => `${v.median.toLocaleString('en-US')} (${v.ratio.toFixed(2)}x)`).join(' | ')} |\n`,
    );
  }
}
