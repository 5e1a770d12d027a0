import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { StreamproofError } from '../util/errors.ts';
import type { Progress } from '../util/progress.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A cross-process lock: a directory made atomically, holding the owner's pid. A lock whose owner died is taken over,
 * so a provisioner killed mid-download never blocks the next one.
 */
export async function withLock<T>(
  lockDir: string,
  progress: Progress,
  fn: () => Promise<T>,
  timeoutMs = 30 * 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let owner = Number.NaN;
      try {
        owner = Number(readFileSync(join(lockDir, 'pid'), 'utf8'));
      } catch {
        // The owner made the dir but has not written its pid yet; wait for it.
      }
      if (Number.isFinite(owner) && !alive(owner)) {
        rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new StreamproofError('TIMEOUT', `Waited ${timeoutMs} ms for the lock ${lockDir} held by pid ${owner}`);
      }
      if (!told) {
        progress({ phase: 'provision', message: `waiting for another provisioner (pid ${owner}) holding ${lockDir}` });
        told = true;
      }
      await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}
