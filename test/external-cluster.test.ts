/**
 * Runs against a secured cluster of "your own" (stack.external, docs/external-clusters.md): the test starts one KRaft
 * node of its own (not the harness's stack) with two secured listeners, certificates made now with openssl:
 * - SECURED: SASL_SSL with SCRAM-SHA-512 (the user created at format time, `--add-scram`);
 * - MTLS: SSL with a client certificate required.
 * Then, with the exactly-once Node copier (it maps the env contract's STREAMPROOF_SECURITY_* variables), a kill -9
 * of the SUT and a rebalance (SASL_SSL) or a fence (mTLS) through the harness's raw-protocol clients: a CLI run over SASL_SSL (load from two worker processes) passes and leaves no topic behind; an API run over mTLS (load from two worker
 * processes) passes and keeps its topics (`keepTopics`); a wrong
 * password is an unknown verdict (exit 3) saying authentication failed; and no file the runs wrote, nor their output,
 * holds the password. Faults that need the local stack are refused (exit 64).
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../harness/runner/result.ts';
import { runScenario } from '../harness/runner/run.ts';
import { validateScenario } from '../harness/runner/scenario.ts';
import { findJava } from '../harness/stack/java.ts';
import { type BrokerConfig, serverProperties, startBroker } from '../harness/stack/kafka.ts';
import { allocatePorts } from '../harness/stack/ports.ts';
import type { ManagedProcess } from '../harness/stack/process.ts';
import { provisionKafka } from '../harness/stack/provision.ts';
import { exec } from '../harness/util/exec.ts';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'bin/streamproof.js');
const PASSWORD = `scram-${Math.random().toString(36).slice(2)}-secret`;
const WRONG = `wrong-${Math.random().toString(36).slice(2)}-guess`;
const USER = 'certifier';
const NODE_COPIER = 'node --import tsx test/fixtures/copiers/transactional.ts';
const KILL = { at: '3s', kind: 'kill', target: 'sut', restartAfter: '1s' };

let dir: string;
let broker: ManagedProcess | undefined;
let secured: string;
let mtls: string;
const pem = (name: string) => join(dir, name);

async function sh(cmd: string, args: string[]) {
  const r = await exec(cmd, args, { cwd: dir });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stdout}${r.stderr}`);
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, all PEM. */
async function makeCertificates() {
  await sh(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem'].concat([
      '-days',
      '2',
      '-subj',
      '/CN=streamproof-test-ca',
    ]),
  );
  writeFileSync(pem('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  for (const who of ['server', 'client']) {
    await sh(
      'openssl',
      ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${who}.key`, '-out', `${who}.csr`].concat([
        '-subj',
        `/CN=${who === 'server' ? 'localhost' : USER}`,
      ]),
    );
    await sh(
      'openssl',
      ['x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial'].concat([
        '-out',
        `${who}.pem`,
        '-days',
        '2',
        '-extfile',
        'san.ext',
      ]),
    );
  }
  writeFileSync(
    pem('server-keystore.pem'),
    readFileSync(pem('server.key'), 'utf8') + readFileSync(pem('server.pem'), 'utf8'),
  );
}

async function startSecuredBroker() {
  const java = await findJava(17);
  if (!java) throw new Error('no Java >= 17');
  const kafka = await provisionKafka();
  const ports = (await allocatePorts(1)).brokers[0]!;
  secured = `127.0.0.1:${ports.listener}`;
  mtls = `127.0.0.1:${ports.proxy}`;
  const c: BrokerConfig = {
    id: 1,
    ports,
    voters: [{ id: 1, controller: ports.controller }],
    dir: join(dir, 'broker'),
    clusterId: 'c3RyZWFtcHJvb2YtZXh0MQ',
    classpath: kafka.classpath,
    java: java.bin,
    heap: '512m',
    overrides: {
      listeners: `DIRECT://127.0.0.1:${ports.direct},SECURED://${secured},MTLS://${mtls},CONTROLLER://127.0.0.1:${ports.controller}`,
      'advertised.listeners': `DIRECT://127.0.0.1:${ports.direct},SECURED://${secured},MTLS://${mtls}`,
      'listener.security.protocol.map': 'DIRECT:PLAINTEXT,SECURED:SASL_SSL,MTLS:SSL,CONTROLLER:PLAINTEXT',
      'sasl.enabled.mechanisms': 'SCRAM-SHA-512',
      'listener.name.secured.sasl.enabled.mechanisms': 'SCRAM-SHA-512',
      'listener.name.secured.scram-sha-512.sasl.jaas.config':
        'org.apache.kafka.common.security.scram.ScramLoginModule required;',
      'ssl.keystore.type': 'PEM',
      'ssl.keystore.location': pem('server-keystore.pem'),
      'ssl.truststore.type': 'PEM',
      'ssl.truststore.location': pem('ca.pem'),
      'listener.name.mtls.ssl.client.auth': 'required',
    },
  };
  const { mkdirSync } = await import('node:fs');
  mkdirSync(join(c.dir, 'data'), { recursive: true });
  const props = Object.entries(serverProperties(c)).map(([k, v]) => `${k}=${v}`);
  writeFileSync(join(c.dir, 'server.properties'), `${props.join('\n')}\n`);
  writeFileSync(join(c.dir, 'log4j2.properties'), 'rootLogger.level = INFO\n');
  const format = await exec(java.bin, [
    '-Xmx256m',
    '-XX:TieredStopAtLevel=1',
    `-Dlog4j2.configurationFile=${join(c.dir, 'log4j2.properties')}`,
    '-cp',
    kafka.classpath,
    'kafka.tools.StorageTool',
    'format',
    '-t',
    c.clusterId,
    '-c',
    join(c.dir, 'server.properties'),
    '--add-scram',
    `SCRAM-SHA-512=[name=${USER},password=${PASSWORD}]`,
  ]);
  if (format.code !== 0) throw new Error(`format: ${format.stdout}${format.stderr}`);
  broker = await startBroker(c);
  // Ready: an mTLS client reads the metadata.
  const deadline = Date.now() + 90_000;
  for (;;) {
    const a = new Admin({ clientId: 'test-ready', bootstrapBrokers: [mtls], tls: mtlsOptions(), timeout: 5000 });
    try {
      await a.metadata({ topics: [] });
      return;
    } catch (err) {
      if (Date.now() > deadline || !broker.running())
        throw new Error(`broker not ready: ${err}\n${broker.logTail(30)}`);
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      await a.close().catch(() => {});
    }
  }
}

const mtlsOptions = () => ({
  ca: readFileSync(pem('ca.pem')),
  cert: readFileSync(pem('client.pem')),
  key: readFileSync(pem('client.key')),
});

function scenario(name: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    sut: { command: NODE_COPIER, contract: 'copy', cwd: root },
    stack: { brokers: 1, partitions: 3 },
    events: { format: 'json', users: 100, seed: 7 },
    load: { rate: 200, duration: '8s' },
    faults: [KILL],
    slo: { e2e_latency: ['p(95)<60s'] },
    drain: { quiet: '3s', timeout: '60s' },
    ...extra,
  };
}

function streamproof(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const p = spawn(process.execPath, [cli, ...args], { cwd: root, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c) => (stdout += c));
    p.stderr.on('data', (c) => (stderr += c));
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Every file under `d` (recursively) whose content holds `secret`. */
function filesHolding(d: string, secret: string): string[] {
  const hits: string[] = [];
  for (const e of readdirSync(d, { recursive: true, encoding: 'utf8' })) {
    const f = join(d, e);
    if (statSync(f).isFile() && readFileSync(f).includes(secret)) hits.push(f);
  }
  return hits;
}

function expectPass(r: RunResult) {
  const why = JSON.stringify({ error: r.error, counts: r.counts, notes: r.notes });
  expect(r.error, why).toBeNull();
  expect(r.counts, why).toMatchObject({ lost: 0, duplicated: 0, unexpected: 0 });
  expect(r.counts.acked, why).toBe(r.counts.offered);
  expect(r.counts.observed, why).toBe(r.counts.acked);
  expect(r.verdict, why).toBe('pass');
  expect(r.faults.filter((f) => f.fault === 'kill').length, why).toBe(1);
  for (const f of r.faults) expect(f.healedAt, why).not.toBeNull();
}

async function topicsOn(bootstrap: string): Promise<string[]> {
  const a = new Admin({ clientId: 'test-topics', bootstrapBrokers: [bootstrap], tls: mtlsOptions() });
  try {
    return await a.listTopics();
  } finally {
    await a.close().catch(() => {});
  }
}

describe('a run against an external secured cluster', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'streamproof-external-'));
    await makeCertificates();
    await startSecuredBroker();
  }, 150_000);
  afterAll(async () => {
    await broker?.stop(8000);
  });

  it('SASL_SSL with SCRAM-SHA-512, from the CLI, two load workers: kill -9 and a rebalance, pass, topics deleted, no secret written', async () => {
    const file = join(dir, 'sasl.json');
    // A rebalance: a raw-protocol member of the harness joins the copier's group over SASL_SSL.
    const faults = [KILL, { at: '5s', kind: 'rebalance', target: 'sut', for: '2s' }];
    writeFileSync(file, JSON.stringify(scenario('external-sasl', { faults })));
    const out = join(dir, 'out-sasl');
    const r = await streamproof(
      ['run', file, '--out', out, '--bootstrap-servers', secured, '--security-protocol', 'SASL_SSL']
        .concat(['--sasl-mechanism', 'SCRAM-SHA-512', '--sasl-username', USER, '--sasl-password-env', 'EXT_PASSWORD'])
        .concat(['--ssl-ca', pem('ca.pem'), '--workers', '2', '--json']),
      { EXT_PASSWORD: PASSWORD },
    );
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as RunResult;
    expectPass(result);
    expect(result.faults.map((f) => f.fault)).toEqual(['kill', 'rebalance']);
    expect(r.code, r.stderr).toBe(0);
    expect(result.replay).toContain('--sasl-password-env EXT_PASSWORD');
    expect(readdirSync(join(out, 'workers'))).toEqual(['worker-0.log', 'worker-1.log']);
    expect(result.scenario.stack.external?.security).toMatchObject({ protocol: 'SASL_SSL', username: USER });
    expect(filesHolding(out, PASSWORD)).toEqual([]);
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
    // The run's topics (named per run) are gone.
    const runId = /sut-(external-sasl-.+)/.exec(JSON.stringify(result))?.[1]?.replace(/".*$/, '');
    const left = (await topicsOn(mtls)).filter((t) => t.startsWith('events'));
    expect(left, `run ${runId}`).toEqual([]);
  }, 120_000);

  it('mTLS (SSL with a client certificate), through the API, two load workers: kill -9 and a fence, pass', async () => {
    const out = join(dir, 'out-mtls');
    const sc = validateScenario(
      scenario('external-mtls', {
        // Two load worker processes: they get the cluster's security through the env contract.
        load: { rate: 200, duration: '8s', workers: 2 },
        // A fence: the harness's raw-protocol InitProducerId takes over the copier's transactional id over mTLS.
        faults: [KILL, { at: '5s', kind: 'fence', target: 'sut' }],
        stack: {
          brokers: 1,
          partitions: 3,
          external: {
            bootstrap: mtls,
            security: { protocol: 'SSL', ca: pem('ca.pem'), cert: pem('client.pem'), key: pem('client.key') },
            keepTopics: true,
          },
        },
      }),
    );
    const r = await runScenario({ scenario: sc, outDir: out });
    expectPass(r);
    expect(r.faults.find((f) => f.fault === 'fence')?.detail?.summary).toMatch(/^fenced sut-external-mtls-.*-0/);
    // keepTopics: the run's topics stay, named for the run.
    expect((await topicsOn(mtls)).filter((t) => t.includes('.external-mtls-')).length).toBe(2);
    expect(filesHolding(out, readFileSync(pem('client.key'), 'utf8').split('\n')[1]!)).toEqual([]);
  }, 120_000);

  it('a wrong password: verdict unknown, exit 3, an authentication error, no secret printed', async () => {
    const file = join(dir, 'wrong.json');
    const pwFile = join(dir, 'wrong.pass');
    writeFileSync(pwFile, `${WRONG}\n`);
    writeFileSync(
      file,
      JSON.stringify(
        scenario('external-wrong', {
          stack: {
            brokers: 1,
            partitions: 3,
            external: {
              bootstrap: secured,
              security: {
                protocol: 'SASL_SSL',
                mechanism: 'SCRAM-SHA-512',
                username: USER,
                password: { file: pwFile },
              },
            },
          },
        }),
      ),
    );
    const out = join(dir, 'out-wrong');
    const r = await streamproof(['run', file, '--out', out, '--ssl-ca', pem('ca.pem')]);
    expect(r.code, r.stderr).toBe(3);
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as RunResult;
    expect(result.verdict).toBe('unknown');
    expect(result.error?.phase).toBe('stack');
    expect(result.error?.message).toMatch(/authentication/i);
    for (const secret of [WRONG, PASSWORD]) {
      expect(filesHolding(out, secret)).toEqual([]);
      expect(r.stdout + r.stderr).not.toContain(secret);
    }
  }, 60_000);

  it('faults that need the local stack, a password value and an unset password variable are refused (exit 64)', async () => {
    const external = { bootstrap: secured, security: { protocol: 'SSL', ca: pem('ca.pem') } };
    const refused = (faults: unknown[]) => () =>
      validateScenario(scenario('refused', { faults, stack: { brokers: 1, partitions: 3, external } }));
    expect(refused([{ at: '1s', for: '2s', kind: 'latency', target: 'sut->kafka', latencyMs: 50 }])).toThrow(
      /faults\[0\]: latency cannot run on an external cluster/,
    );
    expect(refused([{ at: '1s', kind: 'kill', target: 'broker:1' }])).toThrow(/faults\[0\]: kill .*broker:1/);
    expect(refused([{ at: '1s', kind: 'rolling-restart', target: 'brokers' }])).toThrow(/rolling-restart/);
    expect(refused([{ at: '1s', for: '2s', kind: 'pause', target: 'leader:events/0' }])).toThrow(/role target/);
    // SUT process faults, fence and rebalance stay.
    expect(() => refused([{ at: '1s', kind: 'fence', target: 'sut' }])()).not.toThrow();
    const file = join(dir, 'refused.json');
    writeFileSync(
      file,
      JSON.stringify(
        scenario('refused', { faults: [{ at: '1s', for: '2s', kind: 'partition', target: 'sut->kafka' }] }),
      ),
    );
    const r = await streamproof(['run', file, '--bootstrap-servers', secured, '--security-protocol', 'SSL']);
    expect(r.code, r.stderr).toBe(64);
    expect(r.stderr).toMatch(/faults\[0\]: partition cannot run on an external cluster/);
    const pw = await streamproof(['run', file, '--bootstrap-servers', secured, '--sasl-password', 'x']);
    expect(pw.code).toBe(64);
    expect(pw.stderr).toMatch(/never given on the command line/);
    const plain = join(dir, 'unset.json');
    writeFileSync(plain, JSON.stringify(scenario('unset')));
    const unset = await streamproof(
      [
        'run',
        plain,
        '--bootstrap-servers',
        secured,
        '--security-protocol',
        'SASL_SSL',
        '--sasl-mechanism',
        'PLAIN',
      ].concat(['--sasl-username', USER, '--sasl-password-env', 'SP_TEST_UNSET_PASSWORD']),
    );
    expect(unset.code, unset.stderr).toBe(64);
    expect(unset.stderr).toMatch(/security\.password: the environment variable SP_TEST_UNSET_PASSWORD is not set/);
  }, 60_000);
});
