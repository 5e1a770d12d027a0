import { describe, expect, it } from 'vitest';
import { ConfigError } from '../common/config.ts';
import { attributorConfig } from './run.ts';

const env = { STREAMPROOF_BOOTSTRAP_SERVERS: '127.0.0.1:9092' };

describe('attributorConfig', () => {
  it('compresses nothing by default and takes any compression Kafka defines', () => {
    expect(attributorConfig(env).compression).toBe('none');
    for (const c of ['gzip', 'snappy', 'lz4', 'zstd', 'none']) {
      expect(attributorConfig({ ...env, STREAMPROOF_COMPRESSION: c }).compression).toBe(c);
    }
  });

  it('refuses another compression, naming the variable and what it takes', () => {
    expect(() => attributorConfig({ ...env, STREAMPROOF_COMPRESSION: 'brotli' })).toThrow(ConfigError);
    expect(() => attributorConfig({ ...env, STREAMPROOF_COMPRESSION: 'brotli' })).toThrow(
      /STREAMPROOF_COMPRESSION: expected one of none, gzip, snappy, lz4, zstd, got "brotli"/,
    );
  });
});
