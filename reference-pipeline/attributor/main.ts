/**
 * Attributor process: `node --import tsx reference-pipeline/attributor/main.ts`. Env: the SUT contract plus
 * STREAMPROOF_CHANGELOG_TOPIC (default attributor-state), STREAMPROOF_BATCH_MS (100), STREAMPROOF_BATCH_MAX (5000),
 * STREAMPROOF_METRICS_PORT (0 = any), STREAMPROOF_ATTRIBUTION_OPTIONS (JSON of the model's options; the checker must
 * use the same), STREAMPROOF_RESTORE_TIMEOUT_MS (120000), STREAMPROOF_COMPRESSION (none; gzip, snappy, lz4 or zstd),
 * and the fault-injection aid STREAMPROOF_ATTRIBUTOR_COMMIT_DELAY_MS (default 0: hold each transaction open this long
 * before committing; with a few hundred ms it is also the "slower build" that certify's tests and docs/ci.md use). A
 * modified build runs `runAttributor(hooks)` (run.ts) from an entry of its own instead of this one.
 */
import { runAttributor } from './run.ts';

await runAttributor();
