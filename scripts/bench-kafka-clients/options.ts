/** The bench's command line, its time budget and its log: read once, when the first module asks. */
import { parseArgs } from 'node:util';

export type ClientName = 'kafkajs' | 'platformatic';

export interface Options {
  records: number;
  txnRecords: number;
  reps: number;
  batch: number;
  kafkajsInFlight: number;
  platformaticInFlight: number;
  partitions: number;
  users: number;
  three: boolean;
  budgetSeconds: number;
  json: boolean;
}

export function readOptions(): Options {
  const { values } = parseArgs({
    options: {
      records: { type: 'string' },
      'txn-records': { type: 'string' },
      reps: { type: 'string' },
      batch: { type: 'string' },
      'kafkajs-in-flight': { type: 'string' },
      'platformatic-in-flight': { type: 'string' },
      partitions: { type: 'string' },
      users: { type: 'string' },
      three: { type: 'boolean', default: false },
      budget: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const int = (name: string, raw: string | undefined, def: number, min = 1) => {
    if (raw === undefined) return def;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) {
      process.stderr.write(`--${name}: expected an integer >= ${min}, got "${raw}"\n`);
      process.exit(64);
    }
    return n;
  };
  const records = int('records', values.records, 500_000);
  return {
    records,
    txnRecords: int('txn-records', values['txn-records'], Math.min(records, 100_000)),
    reps: int('reps', values.reps, 3, 0),
    batch: int('batch', values.batch, 5_000),
    kafkajsInFlight: int('kafkajs-in-flight', values['kafkajs-in-flight'], 4),
    platformaticInFlight: int('platformatic-in-flight', values['platformatic-in-flight'], 1),
    partitions: int('partitions', values.partitions, 6),
    users: int('users', values.users, 10_000),
    three: values.three ?? false,
    budgetSeconds: int('budget', values.budget, 1_800),
    json: values.json ?? false,
  };
}

export const opts = readOptions();
export const deadline = Date.now() + opts.budgetSeconds * 1000;
export const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
