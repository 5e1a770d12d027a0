/**
 * Full anomaly lists go to a file, examples go to the result (Jepsen condenses anomalies in reports). The file is
 * NDJSON, one finding per line, written as it is generated, so a run with millions of lost events never holds them
 * all in memory.
 */

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { StreamproofError } from '../util/errors.ts';

/** Writes `entries` as NDJSON to `path`; resolves to the number of lines written. */
export async function writeAnomalyFile(path: string, entries: Iterable<object>): Promise<number> {
  const out = createWriteStream(path, { encoding: 'utf8' });
  let failure: Error | undefined;
  out.on('error', (e) => {
    failure = e;
  });
  let lines = 0;
  try {
    for (const entry of entries) {
      if (failure !== undefined) break;
      // Respect back-pressure: a 10M-line file must not buffer in memory.
      if (!out.write(`${JSON.stringify(entry)}\n`)) await Promise.race([once(out, 'drain'), once(out, 'error')]);
      lines++;
    }
    out.end();
    if (failure === undefined) await Promise.race([once(out, 'finish'), once(out, 'error')]);
  } catch (cause) {
    failure ??= cause as Error;
  }
  if (failure !== undefined) {
    out.destroy();
    throw StreamproofError.at('CHECKER_IO', `cannot write anomaly file: ${failure.message}`, { path, cause: failure });
  }
  return lines;
}
