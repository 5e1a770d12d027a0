/**
 * Lake sink process: `node --import tsx reference-pipeline/lake/main.ts`. Env: the SUT contract (STREAMPROOF_LAKE_DIR
 * required) plus STREAMPROOF_LAKE_FLUSH_MS (500), STREAMPROOF_LAKE_FLUSH_RECORDS (50000), STREAMPROOF_METRICS_PORT
 * (0 = any) and the fault-injection aid STREAMPROOF_LAKE_COMMIT_DELAY_MS (default 0: pause between writing the files
 * and the commit).
 */
import { int, readCommonConfig, str } from '../common/config.ts';
import { onShutdown, pause } from '../common/lifecycle.ts';
import { errorFields, logger } from '../common/log.ts';
import { startLakeSink } from './sink.ts';

const env = process.env;
const common = readCommonConfig(env);
const log = logger('lake', common.instance);
try {
  const commitDelayMs = int(env, 'STREAMPROOF_LAKE_COMMIT_DELAY_MS', 0, 0, 600_000);
  const sink = await startLakeSink(
    {
      ...common,
      lakeDir: str(env, 'STREAMPROOF_LAKE_DIR'),
      flushMs: int(env, 'STREAMPROOF_LAKE_FLUSH_MS', 500, 10),
      flushRecords: int(env, 'STREAMPROOF_LAKE_FLUSH_RECORDS', 50_000, 1),
    },
    log,
    commitDelayMs > 0 ? { beforeCommit: () => pause(commitDelayMs) } : {},
  );
  onShutdown(log, () => sink.stop());
} catch (err) {
  log('failed to start', errorFields(err));
  process.exit(1);
}
