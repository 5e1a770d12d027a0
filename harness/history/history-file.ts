/**
 * Saving and loading a History as a JSON file, so `streamproof run` can keep the evidence and `streamproof report`
 * (or a person chasing an incident) can re-run the checkers on it later without the stack.
 */

import { readFile, writeFile } from 'node:fs/promises';
import { StreamproofError } from '../util/errors.ts';
import { History } from './history.ts';

export async function saveHistory(path: string, history: History): Promise<void> {
  try {
    await writeFile(path, `${JSON.stringify(history)}\n`, 'utf8');
  } catch (cause) {
    throw StreamproofError.at('HISTORY_IO', `cannot write history file: ${(cause as Error).message}`, { path, cause });
  }
}

export async function loadHistory(path: string): Promise<History> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw StreamproofError.at('HISTORY_IO', `cannot read history file: ${(cause as Error).message}`, { path, cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw StreamproofError.at('HISTORY_INVALID_JSON', `not JSON: ${(cause as Error).message}`, { path, cause });
  }
  return History.fromJSON(json);
}
