/**
 * Attributor process: `node --import tsx reference-pipeline/attributor/main.ts`. Env: the SUT contract plus
 * STREAMPROOF_CHANGELOG_TOPIC (default attributor-state), STREAMPROOF_BATCH_MS (100), STREAMPROOF_BATCH_MAX (5000),
 * STREAMPROOF_METRICS_PORT (0 = any), STREAMPROOF_ATTRIBUTION_OPTIONS (JSON of the model's options; the checker must
 * use the same), STREAMPROOF_RESTORE_TIMEOUT_MS (120000), and the fault-injection aid STREAMPROOF_ATTRIBUTOR_COMMIT_DELAY_MS
 * (default 0: hold each transaction open this long before committing; with a few hundred ms it is also the "slower
 * build" that certify's tests and docs/ci.md use). TEST-ONLY: STREAMPROOF_ATTRIBUTOR_INJECT_DUPLICATE_EVERY=N (default
 * 0, off) writes every Nth attribution record of a partition twice, a deliberately broken build.
 */

import { ConfigError, int, readCommonConfig, str } from '../common/config.ts';
import { onShutdown } from '../common/lifecycle.ts';
import { errorFields, logger } from '../common/log.ts';
import { resolveOptions } from '../model/index.ts';
import { startAttributor } from './attributor.ts';

const env = process.env;
const common = readCommonConfig(env);
const log = logger('attributor', common.instance);
try {
  let options: Record<string, unknown> = {};
  if (env.STREAMPROOF_ATTRIBUTION_OPTIONS) {
    try {
      options = JSON.parse(env.STREAMPROOF_ATTRIBUTION_OPTIONS) as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError(`STREAMPROOF_ATTRIBUTION_OPTIONS: not JSON: ${(err as Error).message}`);
    }
  }
  const attributor = await startAttributor(
    {
      ...common,
      changelogTopic: str(env, 'STREAMPROOF_CHANGELOG_TOPIC', 'attributor-state'),
      batchMs: int(env, 'STREAMPROOF_BATCH_MS', 100, 1, 60_000),
      batchMax: int(env, 'STREAMPROOF_BATCH_MAX', 5_000, 1, 1_000_000),
      commitDelayMs: int(env, 'STREAMPROOF_ATTRIBUTOR_COMMIT_DELAY_MS', 0, 0, 600_000),
      injectDuplicateEvery: int(env, 'STREAMPROOF_ATTRIBUTOR_INJECT_DUPLICATE_EVERY', 0, 0),
      restoreTimeoutMs: int(env, 'STREAMPROOF_RESTORE_TIMEOUT_MS', 120_000, 1_000),
      txTimeoutMs: int(env, 'STREAMPROOF_TX_TIMEOUT_MS', 30_000, 1_000),
      options: resolveOptions(options),
    },
    log,
  );
  onShutdown(log, () => attributor.stop());
} catch (err) {
  log('failed to start', errorFields(err));
  process.exit(1);
}
