/**
 * A CLI command: its usage line (shown in `streamproof help`) and what it does. `run` returns the exit code.
 * Commands live one per file and are listed in main.ts.
 */
import type { RunHooks } from '../runner/run.ts';
import { jsonProgress, type Progress, textProgress } from '../util/progress.ts';

export interface Command {
  name: string;
  usage: string;
  run(argv: string[], ctx?: { hooks?: RunHooks }): Promise<number>;
}

export interface Out {
  json: boolean;
  progress: Progress;
  print(text: string): void;
  data(value: unknown): void;
}

export function output(json: boolean): Out {
  return {
    json,
    progress: json ? jsonProgress() : textProgress(),
    print: (t) => process.stdout.write(`${t}\n`),
    data: (v) => process.stdout.write(`${JSON.stringify(v, null, 2)}\n`),
  };
}
