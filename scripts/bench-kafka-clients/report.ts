/** The report: the table of medians (stderr, or stdout without --json), the details, and the JSON document. */
import os from 'node:os';
import type { JavaResult } from './java.ts';
import { kafkajsLog } from './kafkajs.ts';
import type { ConsumeResult, ProduceResult, TxnResult } from './measurements.ts';
import { type ClientName, opts } from './options.ts';
import type { oneBroker, Rep, threeBrokers } from './run.ts';
import { median } from './stats.ts';
import { type TxnVariant, txnVariants } from './txn.ts';

export function pick<T>(reps: Rep[], f: (r: Rep) => T | { error: string } | undefined, g: (t: T) => number): number {
  return median(
    reps.map((r) => {
      const v = f(r);
      return v && !('error' in (v as object)) ? g(v as T) : Number.NaN;
    }),
  );
}

export function fmt(x: number, digits = 0): string {
  if (!Number.isFinite(x)) return 'n/a';
  return x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function report(
  one: Awaited<ReturnType<typeof oneBroker>>,
  three: Awaited<ReturnType<typeof threeBrokers>> | undefined,
  startLoad: [number, number, number],
  endLoad: [number, number, number],
): void {
  const rows: string[][] = [];
  const header = ['measurement (median of reps)', 'kafkajs 2.2.4', '@platformatic/kafka 1.35.0', 'ProducerPerformance'];
  const produceOf = (c: ClientName) => (r: Rep) => r.produce[c];
  const consumeOf = (c: ClientName) => (r: Rep) => r.consume[c];
  const txnOf = (c: TxnVariant) => (r: Rep) => r.txn[c];
  const both = (label: string, f: (c: ClientName) => string, java = '') =>
    rows.push([label, f('kafkajs'), f('platformatic'), java]);
  const javaNum = (g: (j: JavaResult) => number, d = 0) =>
    fmt(
      pick<JavaResult>(one.reps, (r) => r.java, g),
      d,
    );
  both(
    'produce records/s',
    (c) => fmt(pick<ProduceResult>(one.reps, produceOf(c), (p) => p.recordsPerSec)),
    javaNum((j) => j.recordsPerSec),
  );
  both(
    'produce MB/s (values)',
    (c) =>
      fmt(
        pick<ProduceResult>(one.reps, produceOf(c), (p) => p.mbPerSec),
        1,
      ),
    javaNum((j) => j.mbPerSec, 1),
  );
  both(
    `batch ack p50 ms (${opts.batch} rec)`,
    (c) =>
      fmt(
        pick<ProduceResult>(one.reps, produceOf(c), (p) => p.batchP50Ms),
        1,
      ),
    `${javaNum((j) => j.p50Ms)} (per record)`,
  );
  both(
    `batch ack p99 ms (${opts.batch} rec)`,
    (c) =>
      fmt(
        pick<ProduceResult>(one.reps, produceOf(c), (p) => p.batchP99Ms),
        1,
      ),
    `${javaNum((j) => j.p99Ms)} (per record)`,
  );
  both('records landed == sent', (c) =>
    one.reps.every((r) => {
      const p = r.produce[c];
      return p && !('error' in p) && p.landed === p.records;
    })
      ? 'yes'
      : 'NO',
  );
  both('consume records/s (join included)', (c) =>
    fmt(pick<ConsumeResult>(one.reps, consumeOf(c), (x) => x.recordsPerSec)),
  );
  both('consume records/s (first to last record)', (c) =>
    fmt(pick<ConsumeResult>(one.reps, consumeOf(c), (x) => x.steadyPerSec)),
  );
  both('consume: first record after ms', (c) =>
    fmt(pick<ConsumeResult>(one.reps, consumeOf(c), (x) => x.firstRecordMs)),
  );
  const txnOk = (t: TxnResult | { error: string } | undefined) => (t && !('error' in t) ? t.correct : false);
  for (const [k, p] of txnVariants) {
    const suffix = k.endsWith('retry20') ? ', retry 20 ms' : '';
    const row = (label: string, f: (v: TxnVariant) => string) => rows.push([label, f(k), f(p), '']);
    row(`txn loop records/s (1 broker${suffix})`, (v) =>
      fmt(pick<TxnResult>(one.reps, txnOf(v), (x) => x.recordsPerSec)),
    );
    row(`txn loop transactions (1 broker${suffix})`, (v) =>
      fmt(pick<TxnResult>(one.reps, txnOf(v), (x) => x.transactions)),
    );
    row(`txn loop correct, every rep (1 broker${suffix})`, (v) =>
      one.reps.every((r) => txnOk(r.txn[v])) ? 'yes' : 'NO',
    );
  }
  if (three) {
    for (const [k, p] of txnVariants) {
      const suffix = k.endsWith('retry20') ? ', retry 20 ms' : '';
      const cell = (v: TxnVariant) => {
        const t = three.txn[v];
        if (!t) return 'n/a';
        if ('error' in t) return 'error';
        return `${fmt(t.recordsPerSec)}${t.correct ? ', correct' : ', NOT correct'}`;
      };
      rows.push([`txn loop records/s (3 brokers, RF 3${suffix})`, cell(k), cell(p), '']);
    }
    both('broker kill: acks resume after s', (c) => {
      const f = three.failover[c];
      if (!f || 'error' in f) return 'error';
      return Number.isFinite(f.recoverySeconds) ? fmt(f.recoverySeconds, 1) : 'none within 45 s';
    });
    both('broker kill: send errors seen', (c) => {
      const f = three.failover[c];
      return f && !('error' in f) ? String(f.errors) : 'error';
    });
  }

  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const table = [
    line(header),
    `|${widths.map((w, i) => (i === 0 ? `-${'-'.repeat(w)}-` : `-${'-'.repeat(w)}:`)).join('|')}|`,
    ...rows.map(line),
  ];
  const out: string[] = [];
  out.push(
    `records ${opts.records} (txn loop ${opts.txnRecords}), ${opts.reps} reps, batch ${opts.batch}, ${opts.partitions} partitions, ${opts.users} users`,
  );
  out.push(`machine: ${os.cpus().length} cpus (${os.cpus()[0]?.model ?? '?'}), Node ${process.version}`);
  out.push(
    `loadavg start ${startLoad.join(' ')}, per rep ${one.reps.map((r) => r.loadavg.join('/')).join(', ')}, end ${endLoad.join(' ')}`,
  );
  out.push(...table);
  for (const r of one.reps)
    if (r.java && !('error' in r.java)) out.push(`ProducerPerformance rep ${r.rep}: ${r.java.summary}`);
  out.push('kafkajs admin on Kafka 4.1:');
  for (const c of one.compat) out.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.step}${c.ok ? '' : `: ${c.detail}`}`);
  out.push(`kafkajs warnings/errors logged: ${kafkajsLog.size === 0 ? 'none' : ''}`);
  for (const [l, n] of kafkajsLog) out.push(`  ${n}x ${l.slice(0, 300)}`);
  out.push(`broker log lines about unsupported/invalid requests: ${one.brokerLogHits.length}`);
  for (const l of one.brokerLogHits.slice(0, 5)) out.push(`  ${l}`);
  for (const r of one.reps) {
    for (const [k, v] of Object.entries({ ...r.produce, java: r.java }))
      if (v && 'error' in v) out.push(`rep ${r.rep} ${k} produce error: ${v.error}`);
    for (const [k, v] of Object.entries(r.consume))
      if (v && 'error' in v) out.push(`rep ${r.rep} ${k} consume error: ${v.error}`);
    for (const [k, v] of Object.entries(r.txn))
      if (v && 'error' in v) out.push(`rep ${r.rep} ${k} txn error: ${v.error}`);
  }
  if (three) {
    for (const [k, v] of Object.entries(three.txn))
      if (v && 'error' in v) out.push(`3 brokers ${k} txn error: ${v.error}`);
    for (const [k, v] of Object.entries(three.failover)) {
      if (v && 'error' in v) out.push(`3 brokers ${k} failover error: ${v.error}`);
      else if (v) out.push(`3 brokers ${k} failover: ${JSON.stringify(v)}`);
    }
  }
  process.stderr.write(`${out.join('\n')}\n`);
  if (opts.json) {
    const doc = {
      options: opts,
      machine: {
        cpus: os.cpus().length,
        model: os.cpus()[0]?.model,
        node: process.version,
        loadavg: { start: startLoad, end: endLoad },
      },
      reps: one.reps,
      kafkajsCompat: one.compat,
      kafkajsLog: Object.fromEntries(kafkajsLog),
      brokerLogHits: one.brokerLogHits,
      threeBrokers: three,
    };
    process.stdout.write(`${JSON.stringify(doc, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
  } else {
    process.stdout.write(`${table.join('\n')}\n`);
  }
}
