/**
 * What the stack leaves behind: nothing. `stack down`, a harness killed with SIGKILL, and SIGINT during `stack up`
 * all end with no JVM, no toxiproxy and no bound port. Also the clear errors for a taken port and a broker that dies.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { alive } from '../harness/stack/process.ts';
import { startStack } from '../harness/stack/stack.ts';
import { StreamproofError } from '../harness/util/errors.ts';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'bin', 'streamproof.js');
const state = mkdtempSync(join(tmpdir(), 'streamproof-state-'));
const env = { ...process.env, STREAMPROOF_STATE: state };

afterAll(() => rmSync(state, { recursive: true, force: true }));

function run(args: string[]): { code: number; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync(process.execPath, [cli, ...args], {
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 180_000,
    });
    return { code: 0, stdout, stderr: '' };
  } catch (err) {
    const e = err as { status: number; stdout: string; stderr: string };
    return { code: e.status, stdout: e.stdout, stderr: e.stderr };
  }
}

function harnessChildren(): number[] {
  try {
    return execFileSync('pgrep', ['-f', 'java|toxiproxy-server'], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

function listeningPorts(): Set<number> {
  const out = execFileSync('ss', ['-ltnH'], { encoding: 'utf8' });
  return new Set([...out.matchAll(/:(\d+)\s/g)].map((m) => Number(m[1])));
}

interface Status {
  kafka: {
    bootstrap: string;
    proxiedBootstrap: string;
    brokers: { id: number; pid: number; direct: string; proxied: string }[];
  };
  toxiproxy: { api: string; pid: number };
  registry: { url: string; pid: number } | null;
  supervisorPid?: number;
}

function pidsOf(s: Status): number[] {
  return [...s.kafka.brokers.map((b) => b.pid), s.toxiproxy.pid, ...(s.registry ? [s.registry.pid] : [])];
}

function portsOf(s: Status): number[] {
  const hp = [
    ...s.kafka.brokers.flatMap((b) => [b.direct, b.proxied]),
    new URL(s.toxiproxy.api).host,
    ...(s.registry ? [new URL(s.registry.url).host] : []),
  ];
  return hp.map((h) => Number(h.split(':')[1]));
}

async function gone(s: Status, ms = 15_000): Promise<{ pids: number[]; ports: number[] }> {
  const deadline = Date.now() + ms;
  for (;;) {
    const pids = pidsOf(s).filter(alive);
    const bound = listeningPorts();
    const ports = portsOf(s).filter((p) => bound.has(p));
    if ((pids.length === 0 && ports.length === 0) || Date.now() > deadline) return { pids, ports };
    await sleep(200);
  }
}

describe('stack lifecycle', () => {
  it('stack up / up again / status / down through the CLI; down leaves no process and no listening port', async () => {
    const up = run(['stack', 'up', '--json']);
    expect(up.code, up.stderr).toBe(0);
    const status = JSON.parse(up.stdout) as Status;
    expect(status.kafka.brokers[0]!.proxied).toBe(status.kafka.proxiedBootstrap);
    for (const pid of pidsOf(status)) expect(alive(pid)).toBe(true);

    const again = run(['stack', 'up', '--json']);
    expect(again.code).toBe(0);
    const second = JSON.parse(again.stdout) as Status & { alreadyRunning: boolean };
    expect(second.alreadyRunning).toBe(true);
    expect(second.kafka.bootstrap).toBe(status.kafka.bootstrap);

    const st = run(['stack', 'status', '--json']);
    expect(st.code).toBe(0);
    expect(JSON.parse(st.stdout)).toMatchObject({ running: true, toolsClasspath: expect.stringMatching(/\/\*$/) });

    const down = run(['stack', 'down', '--json']);
    expect(down.code, down.stderr).toBe(0);
    expect(JSON.parse(down.stdout)).toMatchObject({ stopped: true, killed: [], portsStillBound: [] });
    expect(await gone(status, 2000)).toEqual({ pids: [], ports: [] });
    expect(alive(status.supervisorPid!)).toBe(false);
    expect(run(['stack', 'status']).code).toBe(1);
  });

  it('a harness killed with SIGKILL leaves no JVM, no toxiproxy and no bound port', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'test', 'fixtures', 'hold-stack.ts')], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const status = await new Promise<Status>((resolve, reject) => {
      let buf = '';
      child.stdout!.on('data', (c: Buffer) => {
        buf += c.toString();
        if (buf.includes('\n')) resolve(JSON.parse(buf.split('\n')[0]!) as Status);
      });
      child.once('exit', (code) => reject(new Error(`fixture exited early with ${code}`)));
    });
    for (const pid of pidsOf(status)) expect(alive(pid)).toBe(true);
    child.kill('SIGKILL');
    expect(await gone(status)).toEqual({ pids: [], ports: [] });
  });

  it('SIGINT during `stack up` stops what was started and leaves nothing behind', async () => {
    const before = new Set(harnessChildren());
    const child: ChildProcess = spawn(process.execPath, [cli, 'stack', 'up', '--json'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await new Promise<void>((resolve) => {
      child.stderr!.on('data', (c: Buffer) => {
        if (c.toString().includes('waiting for brokers')) resolve();
      });
    });
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code).not.toBe(0);
    const deadline = Date.now() + 20_000;
    let left: number[] = [];
    do {
      await sleep(300);
      left = harnessChildren().filter((p) => !before.has(p));
    } while (left.length && Date.now() < deadline);
    expect(left).toEqual([]);
    expect(run(['stack', 'status']).code).toBe(1);
  });

  it('a taken port is a clear error naming it and --port-base', async () => {
    const base = 47_100;
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(base + 11, '127.0.0.1', () => r()));
    try {
      const err = await startStack({ brokers: 1, portBase: base }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StreamproofError);
      expect((err as StreamproofError).code).toBe('PORT_IN_USE');
      expect((err as Error).message).toContain(`port ${base + 11}`);
      expect((err as Error).message).toContain('--port-base');
    } finally {
      blocker.close();
    }
    const cliErr = run(['stack', 'up', '--port-base', 'abc']);
    expect(cliErr.code).toBe(64);
    expect(cliErr.stderr).toContain('--port-base');
  });

  it('a broker that dies on start fails the start with the last lines of its log', async () => {
    const err = await startStack({ brokers: 1, registry: false, brokerHeap: '1m' }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/broker 1 exited on start/);
    expect(err?.message).toMatch(/heap/i);
  });
});
