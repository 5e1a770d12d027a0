import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyExternalFlags } from '../cli/external-flags.ts';
import { clientSecurityOptions, securityEnv, securityFor, securityFromEnv, useSecurity } from '../kafka/security.ts';
import { StreamproofError } from '../util/errors.ts';
import { checkSecrets, errorChain } from './external-stack.ts';
import { validateScenario } from './scenario.ts';

const base = {
  name: 'ext',
  sut: { command: 'node copier.js', contract: 'copy' },
  load: { rate: 10, duration: '2s' },
};
const withExternal = (external: unknown, extra: Record<string, unknown> = {}) =>
  validateScenario({ ...base, ...extra, stack: { external } });
const invalid = (fn: () => unknown, message: RegExp) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(StreamproofError);
    expect((err as StreamproofError).code).toMatch(/INVALID_SCENARIO|USAGE/);
    expect((err as Error).message).toMatch(message);
    return;
  }
  throw new Error('no error');
};

describe('stack.external validation', () => {
  it('takes a SASL_SSL block and resolves defaults', () => {
    const sc = withExternal({
      bootstrap: 'b1:9093,b2:9093',
      security: {
        protocol: 'SASL_SSL',
        mechanism: 'SCRAM-SHA-256',
        username: 'u',
        password: { env: 'KAFKA_PASSWORD' },
        ca: 'ca.pem',
      },
      registry: { url: 'https://schemas.example:8081/', username: 'r', password: { file: 'reg.pass' } },
    });
    expect(sc.stack.external).toEqual({
      bootstrap: 'b1:9093,b2:9093',
      security: {
        protocol: 'SASL_SSL',
        mechanism: 'SCRAM-SHA-256',
        username: 'u',
        password: { env: 'KAFKA_PASSWORD' },
        ca: 'ca.pem',
      },
      registry: { url: 'https://schemas.example:8081', username: 'r', password: { file: 'reg.pass' } },
      keepTopics: false,
    });
    expect(withExternal({ bootstrap: 'h:1' }).stack.external?.security).toEqual({ protocol: 'PLAINTEXT' });
    expect(validateScenario(base).stack.external).toBeUndefined();
  });

  it('names the bad field', () => {
    invalid(() => withExternal({ bootstrap: 'nohost' }), /stack\.external\.bootstrap: expected a comma-separated/);
    invalid(
      () => withExternal({ bootstrap: 'h:1', security: { protocol: 'TLS' } }),
      /stack\.external\.security\.protocol: expected one of "PLAINTEXT"/,
    );
    invalid(
      () => withExternal({ bootstrap: 'h:1', security: { protocol: 'SASL_SSL', mechanism: 'GSSAPI' } }),
      /security\.mechanism: expected one of "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"/,
    );
    invalid(
      () => withExternal({ bootstrap: 'h:1', security: { protocol: 'SASL_SSL', mechanism: 'PLAIN', username: 'u' } }),
      /security\.password: expected \{ "env": "NAME" \} or \{ "file": "path" \}/,
    );
    invalid(() => withExternal({ bootstrap: 'h:1', security: { protocol: 'SSL', cert: 'c.pem' } }), /security\.key/);
    invalid(() => withExternal({ bootstrap: 'h:1', security: { protocol: 'PLAINTEXT', ca: 'x' } }), /security\.ca/);
    invalid(() => withExternal({ bootstrap: 'h:1', bogus: 1 }), /stack\.external\.bogus: unknown field/);
  });

  it('refuses a literal password without echoing it', () => {
    const security = { protocol: 'SASL_PLAINTEXT', mechanism: 'PLAIN', username: 'u', password: 'hunter2-literal' };
    try {
      withExternal({ bootstrap: 'h:1', security });
      throw new Error('accepted');
    } catch (err) {
      expect((err as Error).message).toMatch(/security\.password: a password is never written in a scenario/);
      expect((err as Error).message).not.toContain('hunter2-literal');
    }
  });

  it('refuses what needs the local stack, the fast client over TLS, the reference SUT over SASL', () => {
    const ssl = { bootstrap: 'h:1', security: { protocol: 'SSL' } };
    invalid(
      () =>
        withExternal(ssl, { faults: [{ at: '1s', for: '1s', kind: 'latency', target: 'sut->kafka', latencyMs: 5 }] }),
      /faults\[0\]: latency cannot run on an external cluster .*Toxiproxy/,
    );
    invalid(
      () => withExternal(ssl, { faults: [{ at: '1s', for: '1s', kind: 'pause', target: 'broker:1' }] }),
      /faults\[0\]: pause .*broker:1/,
    );
    invalid(() => withExternal(ssl, { load: { ...base.load, client: 'fast' } }), /load\.client: "fast"/);
    invalid(
      () => withExternal(ssl, { sut: { command: 'reference', contract: 'attribution' } }),
      /sut\.command: the reference pipeline speaks PLAINTEXT only/,
    );
    const ok = withExternal(ssl, {
      faults: [
        { at: '1s', kind: 'kill', target: 'sut:0', restartAfter: '1s' },
        { at: '2s', for: '1s', kind: 'pause', target: 'sut' },
        { at: '3s', kind: 'fence', target: 'sut' },
        { at: '4s', for: '1s', kind: 'rebalance', target: 'sut' },
      ],
    });
    expect(ok.faults).toHaveLength(4);
    // PLAINTEXT: the fast client speaks it.
    expect(withExternal({ bootstrap: 'h:1' }, { load: { ...base.load, client: 'fast' } }).load.client).toBe('fast');
  });
});

describe('security options and the env contract', () => {
  const dir = mkdtempSync(join(tmpdir(), 'streamproof-sec-'));
  writeFileSync(join(dir, 'ca.pem'), 'CA');
  writeFileSync(join(dir, 'pw'), 'from-a-file\n');

  it('reads the password from a variable or a file, the PEMs from their paths', () => {
    process.env.SP_UNIT_PW = 'from-env';
    const sasl = { protocol: 'SASL_SSL', mechanism: 'SCRAM-SHA-512', username: 'u', ca: join(dir, 'ca.pem') } as const;
    const a = clientSecurityOptions({ ...sasl, password: { env: 'SP_UNIT_PW' } });
    expect(a.sasl).toEqual({ mechanism: 'SCRAM-SHA-512', username: 'u', password: 'from-env' });
    expect(String(a.tls?.ca)).toBe('CA');
    const b = clientSecurityOptions({ ...sasl, password: { file: join(dir, 'pw') } });
    expect(b.sasl?.password).toBe('from-a-file');
    expect(securityEnv({ ...sasl, password: { env: 'SP_UNIT_PW' } }, a)).toEqual({
      STREAMPROOF_SECURITY_PROTOCOL: 'SASL_SSL',
      STREAMPROOF_SASL_MECHANISM: 'SCRAM-SHA-512',
      STREAMPROOF_SASL_USERNAME: 'u',
      STREAMPROOF_SASL_PASSWORD: 'from-env',
      STREAMPROOF_SSL_CA_LOCATION: join(dir, 'ca.pem'),
    });
    expect(securityEnv({ protocol: 'PLAINTEXT' }, {})).toEqual({});
    const back = securityFromEnv(securityEnv({ ...sasl, password: { env: 'SP_UNIT_PW' } }, a));
    expect(back.security.protocol).toBe('SASL_SSL');
    delete process.env.SP_UNIT_PW;
  });

  it('a missing variable is bad input naming the field, not the value', () => {
    const ext = withExternal({
      bootstrap: 'h:1',
      security: { protocol: 'SASL_PLAINTEXT', mechanism: 'PLAIN', username: 'u', password: { env: 'SP_UNSET_PW' } },
    }).stack.external!;
    expect(() => checkSecrets(ext)).toThrow(
      /stack\.external\.security\.password: the environment variable SP_UNSET_PW/,
    );
  });

  it('registers options per address and releases them', () => {
    const opts = { sasl: { mechanism: 'PLAIN' as const, username: 'u', password: 'p' } };
    const release = useSecurity('a:1, b:2', { protocol: 'SASL_PLAINTEXT' }, opts);
    expect(securityFor(['x:9', 'b:2'])).toBe(opts);
    expect(securityFor('c:3')).toEqual({});
    release();
    expect(securityFor('a:1')).toEqual({});
  });

  it('errorChain flattens nested causes and the broker message', () => {
    const inner = Object.assign(new Error('SASL authentication failed.'), {
      serverErrorMessage: 'invalid credentials',
    });
    const top = new AggregateError([inner], 'Cannot connect to any broker.');
    expect(errorChain(new Error('metadata failed', { cause: top }))).toEqual([
      'metadata failed',
      'Cannot connect to any broker.',
      'SASL authentication failed.',
      'invalid credentials',
    ]);
  });
});

describe('the external flags of streamproof run', () => {
  it('writes stack.external and a replay that names no secret', () => {
    const raw: Record<string, unknown> = { name: 'x' };
    const replay = applyExternalFlags(
      raw,
      {
        'bootstrap-servers': 'h:9093',
        'security-protocol': 'SASL_SSL',
        'sasl-mechanism': 'PLAIN',
        'sasl-username': 'u',
        'sasl-password-env': 'MY_PW',
        'ssl-ca': '/certs/ca.pem',
        'keep-topics': true,
      },
      '/s/scenario.json',
    );
    expect(raw.stack).toEqual({
      external: {
        bootstrap: 'h:9093',
        security: {
          protocol: 'SASL_SSL',
          mechanism: 'PLAIN',
          username: 'u',
          password: { env: 'MY_PW' },
          ca: '/certs/ca.pem',
        },
        keepTopics: true,
      },
    });
    expect(replay.join(' ')).toBe(
      '--bootstrap-servers h:9093 --security-protocol SASL_SSL --sasl-mechanism PLAIN --sasl-username u --sasl-password-env MY_PW --ssl-ca /certs/ca.pem --keep-topics',
    );
  });

  it('resolves the scenario block paths against its file; refuses a password value and stray flags', () => {
    const raw = {
      stack: {
        external: { bootstrap: 'h:1', security: { protocol: 'SSL', ca: 'ca.pem', cert: 'c.pem', key: 'k.pem' } },
      },
    } as Record<string, unknown>;
    expect(applyExternalFlags(raw as never, {}, '/s/dir/scenario.json')).toEqual([]);
    expect((raw.stack as { external: { security: unknown } }).external.security).toMatchObject({
      ca: '/s/dir/ca.pem',
      key: '/s/dir/k.pem',
    });
    expect(() => applyExternalFlags({}, { 'sasl-password': 'x' }, 's.json')).toThrow(/never given on the command line/);
    expect(() => applyExternalFlags({}, { 'ssl-ca': 'ca.pem' }, 's.json')).toThrow(/--ssl-ca: only with an external/);
  });
});
