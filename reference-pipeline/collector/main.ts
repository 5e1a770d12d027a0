/**
 * Collector process: `node --import tsx reference-pipeline/collector/main.ts`. Env: the SUT contract plus
 * STREAMPROOF_COLLECTOR_PORT (default 8080; 0 = any), STREAMPROOF_COLLECTOR_HOST (127.0.0.1),
 * STREAMPROOF_COLLECTOR_FORMAT (avro | json, default avro), STREAMPROOF_COLLECTOR_TOKEN (bearer token, optional),
 * STREAMPROOF_COLLECTOR_MAX_BODY_BYTES (1 MiB), STREAMPROOF_COLLECTOR_MAX_IN_FLIGHT (events, 20000).
 */
import { int, oneOf, readCommonConfig, str } from '../common/config.ts';
import { onShutdown } from '../common/lifecycle.ts';
import { errorFields, logger } from '../common/log.ts';
import { startCollector } from './collector.ts';

const env = process.env;
const common = readCommonConfig(env);
const log = logger('collector', common.instance);
try {
  const collector = await startCollector(
    {
      ...common,
      port: int(env, 'STREAMPROOF_COLLECTOR_PORT', 8080, 0, 65_535),
      host: str(env, 'STREAMPROOF_COLLECTOR_HOST', '127.0.0.1'),
      format: oneOf(env, 'STREAMPROOF_COLLECTOR_FORMAT', 'avro', ['avro', 'json'] as const),
      token: env.STREAMPROOF_COLLECTOR_TOKEN || undefined,
      maxBodyBytes: int(env, 'STREAMPROOF_COLLECTOR_MAX_BODY_BYTES', 1_048_576, 1),
      maxInFlight: int(env, 'STREAMPROOF_COLLECTOR_MAX_IN_FLIGHT', 20_000, 1),
    },
    log,
  );
  onShutdown(log, () => collector.stop());
} catch (err) {
  log('failed to start', errorFields(err));
  process.exit(1);
}
