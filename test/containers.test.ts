/**
 * The testcontainers runtime (harness/stack/containers.ts) on a real Docker engine, with the images that
 * scripts/build-images.sh builds from the provisioning cache (no image registry here; .ci/run builds them).
 *
 * - 1 broker, from the CLI (--runtime testcontainers, the images from STREAMPROOF_*_IMAGE): the exactly-once Node copier killed -9, and `sut->kafka` partitioned for 3 s through
 *   the containerised Toxiproxy: pass, nothing lost or duplicated, and the partition reached the SUT (records
 *   produced during it waited: the e2e max is above 2 s). No container, network or published port left after.
 * - 3 brokers and the registry, through the API, Avro events: the copier killed -9, broker 2's container killed and
 *   started again, the leader of events/0's proxy partitioned (a role target, resolved to a broker container): pass,
 *   every fault healed.
 * - A harness killed -9 mid-run leaves containers behind; the next stack start removes them.
 * - Bad input: an unknown runtime, images without the testcontainers runtime, runtime with external: exit 64.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../harness/runner/result.ts';
import { runScenario } from '../harness/runner/run.ts';
import { validateScenario } from '../harness/runner/scenario.ts';
import { probeDocker } from '../harness/stack/docker-probe.ts';
import { localImages } from '../harness/stack/images.ts';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'bin/streamproof.js');
const out = mkdtempSync(join(tmpdir(), 'streamproof-containers-'));
const NODE_COPIER = 'node --import tsx test/fixtures/copiers/transactional.ts';
const KILL = { at: '3s', kind: 'kill', target: 'sut', restartAfter: '1s' };
// Containers are reached through ports published on this machine; without Ryuk (no image for it here) the stack
// removes its own containers, and the next start removes those of a harness that died.
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
process.env.TESTCONTAINERS_HOST_OVERRIDE ??= 'localhost';

function scenario(name: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    sut: { command: NODE_COPIER, contract: 'copy', cwd: root },
    stack: { brokers: 1, partitions: 3, registry: false, runtime: 'testcontainers', images: localImages },
    events: { format: 'json', users: 100, seed: 7 },
    load: { rate: 200, duration: '10s' },
    faults: [KILL],
    slo: { e2e_latency: ['p(95)<60s'] },
    drain: { quiet: '3s', timeout: '60s' },
    ...extra,
  };
}

function docker(args: string[]): string {
  const r = spawnSync('docker', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}
const ours = () => docker(['ps', '-aq', '--filter', 'label=streamproof.stack']);
const ourNetworks = () => docker(['network', 'ls', '-q', '--filter', 'label=streamproof.stack']);

function expectPass(r: RunResult, kills: number) {
  const why = JSON.stringify({ error: r.error, counts: r.counts, notes: r.notes, faults: r.faults });
  expect(r.error, why).toBeNull();
  expect(r.counts, why).toMatchObject({ lost: 0, duplicated: 0, unexpected: 0 });
  expect(r.counts.acked, why).toBe(r.counts.offered);
  expect(r.counts.observed, why).toBe(r.counts.acked);
  expect(r.verdict, why).toBe('pass');
  expect(r.faults.filter((f) => f.fault === 'kill').length, why).toBe(kills);
  for (const f of r.faults) expect(f.healedAt, why).not.toBeNull();
}

/** Docker publishes a container's port with a docker-proxy process per port: none may be left. */
function noPublishedPorts(): void {
  const r = spawnSync('pgrep', ['-a', 'docker-proxy'], { encoding: 'utf8' });
  expect(r.stdout.trim(), 'docker-proxy processes left').toBe('');
}

describe('the testcontainers runtime', () => {
  beforeAll(async () => {
    const { engine } = await probeDocker();
    if (!engine.reachable) throw new Error(`no Docker engine (${engine.error}); .ci/run starts one`);
    for (const image of Object.values(localImages)) {
      const r = spawnSync('docker', ['image', 'inspect', image], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${image} is missing: bash scripts/build-images.sh builds it`);
    }
    expect(ours()).toBe('');
  });
  afterAll(() => {
    const left = ours();
    if (left) docker(['rm', '-f', ...left.split('\n')]);
  });

  it('1 broker, from the CLI (--runtime, images from the environment): kill -9 of the copier and sut->kafka partitioned through the container proxy: pass, nothing left', async () => {
    const file = join(out, 'one.json');
    const faults = [KILL, { at: '5s', kind: 'partition', target: 'sut->kafka', for: '3s' }];
    // The runtime from the flag, the images from the environment (the scenario names neither).
    const sc = scenario('containers-1', { faults, stack: { brokers: 1, partitions: 3, registry: false } });
    writeFileSync(file, JSON.stringify(sc));
    const dir = join(out, 'one');
    const env = {
      ...process.env,
      STREAMPROOF_KAFKA_IMAGE: localImages.kafka,
      STREAMPROOF_TOXIPROXY_IMAGE: localImages.toxiproxy,
      STREAMPROOF_REGISTRY_IMAGE: localImages.registry,
    };
    const args = [cli, 'run', file, '--runtime', 'testcontainers', '--out', dir];
    const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', env });
    const result = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as RunResult;
    expect(r.status, r.stderr.slice(-3000)).toBe(0);
    expectPass(result, 1);
    expect(result.scenario.stack).toMatchObject({ runtime: 'testcontainers' });
    expect(result.replay).toMatch(new RegExp(`^streamproof run ${file} --runtime testcontainers( --seed \\d+)?$`));
    // The partition reached the SUT: what it read or wrote during those 3 s waited for the heal.
    expect(result.latency.e2e?.maxMs ?? 0).toBeGreaterThan(2000);
    expect(r.stderr).toMatch(/starting 1 broker container\(s\)/);
    expect(ours()).toBe('');
    expect(ourNetworks()).toBe('');
    noPublishedPorts();
  }, 240_000);

  it('3 brokers and the registry, through the API, Avro events: the copier and broker 2 killed, the leader of events/0 partitioned: pass, nothing left', async () => {
    const sc = validateScenario(
      scenario('containers-3', {
        stack: { brokers: 3, partitions: 3, registry: true, runtime: 'testcontainers', images: localImages },
        // Avro through the containerised registry: the load registers the schema, the observer decodes by its id.
        events: { format: 'avro', users: 100, seed: 7 },
        faults: [
          KILL,
          { at: '4s', kind: 'kill', target: 'broker:2', restartAfter: '2s' },
          { at: '7s', kind: 'partition', target: 'sut->leader:events/0', for: '2s' },
        ],
      }),
    );
    const r = await runScenario({ scenario: sc, outDir: join(out, 'three') });
    expectPass(r, 2);
    const partition = r.faults.find((f) => f.fault === 'partition');
    expect(partition?.target).toMatch(/^sut->leader:events\/0 → broker:[123]$/);
    expect(ours()).toBe('');
    expect(ourNetworks()).toBe('');
    noPublishedPorts();
  }, 300_000);

  it('a harness killed -9 mid-run leaves its containers; the next start removes them', async () => {
    const file = join(out, 'killed.json');
    writeFileSync(file, JSON.stringify(scenario('containers-killed', { load: { rate: 100, duration: '60s' } })));
    const p = spawn(process.execPath, [cli, 'run', file, '--out', join(out, 'killed')], { cwd: root });
    let stderr = '';
    p.stderr.on('data', (c) => (stderr += c));
    for (let i = 0; i < 120 && !/ready in/.test(stderr); i++) await sleep(500);
    expect(stderr).toMatch(/ready in/);
    p.kill('SIGKILL');
    await new Promise((resolve) => p.once('exit', resolve));
    const left = ours().split('\n');
    expect(left.length).toBeGreaterThan(0);
    expect(
      docker(['ps', '-aq', '--filter', `label=streamproof.owner-pid=${p.pid}`])
        .split('\n')
        .sort(),
    ).toEqual([...left].sort());
    // The next stack start removes them (their owner is dead) before it starts its own.
    const { startStack } = await import('../harness/stack/stack.ts');
    const stack = await startStack({ runtime: 'testcontainers', images: localImages, registry: false });
    try {
      const now = ours().split('\n');
      expect(now.filter((id) => left.includes(id))).toEqual([]);
    } finally {
      await stack.stop();
    }
    expect(ours()).toBe('');
    expect(ourNetworks()).toBe('');
    noPublishedPorts();
  }, 180_000);

  it('bad input: exit 64 naming the field', () => {
    const bad = (stack: Record<string, unknown>) => () =>
      validateScenario(scenario('bad', { stack: { brokers: 1, partitions: 3, ...stack } }));
    expect(bad({ runtime: 'kubernetes' })).toThrow(/stack\.runtime/);
    expect(bad({ images: { kafka: 'apache/kafka:4.1.1' } })).toThrow(/stack\.images: .*absent unless/);
    expect(bad({ runtime: 'testcontainers', images: { kafka: 'Not An Image' } })).toThrow(/stack\.images\.kafka/);
    expect(bad({ runtime: 'testcontainers', external: { bootstrap: 'localhost:9092' } })).toThrow(
      /stack\.runtime: .*external/,
    );
    const file = join(out, 'bad.json');
    writeFileSync(file, JSON.stringify(scenario('bad', { stack: { brokers: 1, runtime: 'podman' } })));
    const r = spawnSync(process.execPath, [cli, 'run', file], { cwd: root, encoding: 'utf8' });
    expect(r.status).toBe(64);
    expect(r.stderr).toMatch(/stack\.runtime/);
    const good = join(out, 'good.json');
    writeFileSync(good, JSON.stringify(scenario('good', { stack: { brokers: 1 } })));
    const flag = spawnSync(process.execPath, [cli, 'run', good, '--runtime', 'k8s'], { cwd: root, encoding: 'utf8' });
    expect(flag.status).toBe(64);
    expect(flag.stderr).toMatch(/--runtime: expected local or testcontainers, got "k8s"/);
  });
});
