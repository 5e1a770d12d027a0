/**
 * The attributor as a process: reads its configuration from the env and runs until SIGTERM/SIGINT. main.ts runs it
 * as shipped; a modified build (a fork of the reference, a test fixture) runs it with its own hooks, from an entry
 * file of its own that the harness starts instead of main.ts (STREAMPROOF_REFERENCE_ATTRIBUTOR, see
 * docs/reference-pipeline.md).
 */
import { allowedCompressionsAlgorithms } from '@platformatic/kafka';
import { ConfigError, int, oneOf, readCommonConfig, str } from '../common/config.ts';
import { onShutdown, pause } from '../common/lifecycle.ts';
import { errorFields, logger } from '../common/log.ts';
import { resolveOptions } from '../model/index.ts';
import { startAttributor } from './attributor.ts';
import type { AttributorConfig, AttributorHooks } from './config.ts';

/** The attributor's configuration from the env (see main.ts). */
export function attributorConfig(env: NodeJS.ProcessEnv): AttributorConfig {
  let options: Record<string, unknown> = {};
  if (env.STREAMPROOF_ATTRIBUTION_OPTIONS) {
    try {
      options = JSON.parse(env.STREAMPROOF_ATTRIBUTION_OPTIONS) as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError(`STREAMPROOF_ATTRIBUTION_OPTIONS: not JSON: ${(err as Error).message}`);
    }
  }
  return {
    ...readCommonConfig(env),
    changelogTopic: str(env, 'STREAMPROOF_CHANGELOG_TOPIC', 'attributor-state'),
    batchMs: int(env, 'STREAMPROOF_BATCH_MS', 100, 1, 60_000),
    batchMax: int(env, 'STREAMPROOF_BATCH_MAX', 5_000, 1, 1_000_000),
    restoreTimeoutMs: int(env, 'STREAMPROOF_RESTORE_TIMEOUT_MS', 120_000, 1_000),
    txTimeoutMs: int(env, 'STREAMPROOF_TX_TIMEOUT_MS', 30_000, 1_000),
    compression: oneOf(env, 'STREAMPROOF_COMPRESSION', 'none', allowedCompressionsAlgorithms),
    options: resolveOptions(options),
  };
}

/**
 * Starts the attributor configured by `env` with `hooks`, stops it on SIGTERM/SIGINT; exits 1 when it cannot start.
 * The fault-injection aid STREAMPROOF_ATTRIBUTOR_COMMIT_DELAY_MS is a `beforeCommit` pause, run after the hooks' own.
 */
export async function runAttributor(hooks: AttributorHooks = {}, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const log = logger('attributor', env.STREAMPROOF_INSTANCE ?? '0');
  try {
    const cfg = attributorConfig(env);
    const commitDelayMs = int(env, 'STREAMPROOF_ATTRIBUTOR_COMMIT_DELAY_MS', 0, 0, 600_000);
    const withDelay: AttributorHooks = {
      ...hooks,
      ...(commitDelayMs > 0 || hooks.beforeCommit
        ? {
            async beforeCommit(batch) {
              await hooks.beforeCommit?.(batch);
              if (commitDelayMs > 0) await pause(commitDelayMs);
            },
          }
        : {}),
    };
    const attributor = await startAttributor(cfg, log, withDelay);
    onShutdown(log, () => attributor.stop());
  } catch (err) {
    log('failed to start', errorFields(err));
    process.exit(1);
  }
}
