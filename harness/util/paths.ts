import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where downloads live (shared by every run, safe to delete) and where a running stack keeps its state
 * (logs, data dirs, the pid/port file that `stack status` reads).
 */
export function cacheRoot(): string {
  if (process.env.STREAMPROOF_CACHE) return process.env.STREAMPROOF_CACHE;
  const xdg = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(xdg, 'streamproof');
}

export function stateRoot(): string {
  if (process.env.STREAMPROOF_STATE) return process.env.STREAMPROOF_STATE;
  const xdg = process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(xdg, 'streamproof');
}

/** The repository root (this file is harness/util/paths.ts). */
export const projectRoot = join(new URL('.', import.meta.url).pathname, '..', '..');
