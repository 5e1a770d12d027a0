/**
 * Readiness strategies without Kafka (log, http, tcp, none, fail-fast, timeout messages) and the validation of
 * `sut.ready`. The group strategy against real groups of every client is in test/readiness.test.ts.
 */
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamproofError } from '../util/errors.ts';
import { parseTcpTarget, type ReadyInstance, type ReadyStrategy, waitReady } from './ready.ts';
import { validateReady, validateScenario } from './scenario.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ready-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Exit = { code: number | null; signal: string | null };

function instance(name: string, lines: string[] = []): ReadyInstance & { alive: boolean; unexpectedExits: Exit[] } {
  const logFile = join(dir, `${name}.log`);
  writeFileSync(logFile, lines.map((l) => `${l}\n`).join(''));
  const inst = {
    name,
    logFile,
    alive: true,
    running: () => inst.alive,
    unexpectedExits: [] as Exit[],
  };
  return inst;
}

const base = { bootstrap: '127.0.0.1:1', groupId: 'g', topic: 't', partitions: 3, intervalMs: 20 };

async function rejection(p: Promise<unknown>): Promise<StreamproofError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(StreamproofError);
    return err as StreamproofError;
  }
  throw new Error('expected a rejection');
}

describe('waitReady', () => {
  it('"none" returns at once', async () => {
    const dead = instance('none-0');
    dead.alive = false;
    await waitReady('none', { ...base, instances: [dead], timeoutMs: 0 });
  });

  it('log: waits until a line of every instance matches, including a line still being written', async () => {
    const a = instance('log-a', ['booting']);
    const b = instance('log-b', ['booting']);
    const started = Date.now();
    const wait = waitReady(
      { log: 'consumer (started|ready) on \\d+ partitions' },
      {
        ...base,
        instances: [a, b],
        timeoutMs: 5000,
      },
    );
    setTimeout(() => appendFileSync(a.logFile, 'noise\nconsumer started on 3 partitions\n'), 100);
    setTimeout(() => appendFileSync(b.logFile, 'consumer ready on 3 part'), 200);
    setTimeout(() => appendFileSync(b.logFile, 'itions'), 300);
    await wait;
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('log: times out naming the pattern, who matched, and every instance log tail', async () => {
    const a = instance('tail-a', ['listening', ...Array.from({ length: 30 }, (_, i) => `a line ${i}`)]);
    const b = instance('tail-b', ['still booting']);
    const err = await rejection(waitReady({ log: '^listening' }, { ...base, instances: [a, b], timeoutMs: 300 }));
    expect(err.code).toBe('TIMEOUT');
    expect(err.message).toContain('SUT not ready after 300 ms: waited for a line matching /^listening/');
    expect(err.message).toContain('in the log of every SUT instance (2)');
    expect(err.message).toContain('last seen: matched in tail-a; not (yet) in tail-b');
    expect(err.message).toContain(`--- last 20 lines of tail-a (${a.logFile}) ---\na line 10\n`);
    expect(err.message).not.toContain('a line 9\n');
    expect(err.message.endsWith(`--- last 20 lines of tail-b (${b.logFile}) ---\nstill booting`)).toBe(true);
  });

  it('fails fast when an instance exits first, with its exit and the log tails', async () => {
    const a = instance('exit-a', ['Exception in thread "main" java.lang.IllegalStateException: no config']);
    a.alive = false;
    a.unexpectedExits.push({ code: 1, signal: null });
    const started = Date.now();
    const err = await rejection(waitReady({ tcp: 1 }, { ...base, instances: [a], timeoutMs: 30_000 }));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(err.code).toBe('STACK_START_FAILED');
    expect(err.message).toMatch(
      /^exit-a exited \(exit code 1\) before it was ready, after \d+ ms of waiting for 127\.0\.0\.1:1 to accept a TCP connection/,
    );
    expect(err.message).toContain('IllegalStateException: no config');
  });

  it('an instance that dies while waiting is noticed at the next check', async () => {
    const a = instance('dies-a', ['up']);
    setTimeout(() => {
      a.alive = false;
    }, 150);
    const err = await rejection(waitReady({ log: 'never' }, { ...base, instances: [a], timeoutMs: 10_000 }));
    expect(err.message).toMatch(/^dies-a exited before it was ready/);
  });

  describe('http and tcp', () => {
    let http: Server;
    let status = 503;
    let url = '';
    beforeAll(async () => {
      http = createHttpServer((req, res) => {
        res.statusCode = req.url === '/redirect' ? 302 : status;
        if (req.url === '/redirect') res.setHeader('location', '/health');
        res.end('x');
      });
      await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((r) => http.close(() => r())));

    it('http: waits for a 2xx; a 503 or a redirect is not ready', async () => {
      const inst = instance('http-a');
      status = 503;
      const err = await rejection(waitReady({ http: `${url}/health` }, { ...base, instances: [inst], timeoutMs: 300 }));
      expect(err.message).toContain(
        `waited for ${url}/health to answer 2xx; last seen: last answer 503 Service Unavailable`,
      );
      const redirect = await rejection(
        waitReady({ http: `${url}/redirect` }, { ...base, instances: [inst], timeoutMs: 200 }),
      );
      expect(redirect.message).toContain('last answer 302');
      setTimeout(() => {
        status = 204;
      }, 150);
      await waitReady({ http: `${url}/health` }, { ...base, instances: [inst], timeoutMs: 5000 });
    });

    it('http: a refused connection is reported', async () => {
      const port = await freePort();
      const err = await rejection(
        waitReady({ http: `http://127.0.0.1:${port}/` }, { ...base, instances: [instance('http-b')], timeoutMs: 200 }),
      );
      expect(err.message).toMatch(/last seen: last attempt failed: .*ECONNREFUSED/);
    });

    it('tcp: waits until the port accepts a connection, by port or host:port', async () => {
      const port = await freePort();
      const inst = instance('tcp-a');
      const err = await rejection(waitReady({ tcp: port }, { ...base, instances: [inst], timeoutMs: 200 }));
      expect(err.message).toContain(
        `waited for 127.0.0.1:${port} to accept a TCP connection; last seen: last attempt failed: connect ECONNREFUSED`,
      );
      const server = createTcpServer((s) => s.end());
      setTimeout(() => server.listen(port, '127.0.0.1'), 150);
      try {
        await waitReady({ tcp: port }, { ...base, instances: [inst], timeoutMs: 5000 });
        await waitReady({ tcp: `localhost:${port}` }, { ...base, instances: [inst], timeoutMs: 5000 });
      } finally {
        await new Promise<void>((r) => server.close(() => r()));
      }
    });
  });

  it('group: a broker that is not there times out with what it waited for', async () => {
    const port = await freePort();
    const err = await rejection(
      waitReady('group', {
        ...base,
        bootstrap: `127.0.0.1:${port}`,
        instances: [instance('group-a', ['consumer up'])],
        timeoutMs: 300,
      }),
    );
    expect(err.code).toBe('TIMEOUT');
    expect(err.message).toContain("waited for the SUT's consumer group g to be Stable and own all 3 partitions of t");
    expect(err.message).toContain('last seen: describing group g failed');
    expect(err.message).toContain('consumer up');
  });
});

async function freePort(): Promise<number> {
  const s = createTcpServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('parseTcpTarget', () => {
  it('reads a port, host:port and [v6]:port', () => {
    expect(parseTcpTarget(8080)).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseTcpTarget('localhost:9')).toEqual({ host: 'localhost', port: 9 });
    expect(parseTcpTarget('[::1]:80')).toEqual({ host: '::1', port: 80 });
  });
});

describe('sut.ready validation', () => {
  const scenario = (ready: unknown, readyTimeout?: unknown) => ({
    name: 'x',
    sut: { command: 'true', contract: 'copy', ready, readyTimeout },
    load: { rate: 1, duration: '1s' },
  });
  const errorOf = (raw: unknown): StreamproofError => {
    try {
      validateScenario(raw);
    } catch (err) {
      expect(err).toBeInstanceOf(StreamproofError);
      expect((err as StreamproofError).code).toBe('INVALID_SCENARIO');
      return err as StreamproofError;
    }
    throw new Error('expected the scenario to be rejected');
  };

  it('defaults to "group" with 60 s and takes every strategy', () => {
    expect(validateScenario(scenario(undefined)).sut).toMatchObject({ ready: 'group', readyTimeoutMs: 60_000 });
    const ok: ReadyStrategy[] = [
      'group',
      'none',
      { log: 'started on \\d+ partitions' },
      { http: 'http://127.0.0.1:8080/health' },
      { http: 'http://localhost:8080/' },
      { tcp: 8080 },
      { tcp: '127.0.0.1:8080' },
      { tcp: 'localhost:1' },
      { tcp: '[::1]:65535' },
    ];
    for (const r of ok)
      expect(validateScenario(scenario(r, '90s')).sut).toMatchObject({ ready: r, readyTimeoutMs: 90_000 });
  });

  it('names the path of what is wrong', () => {
    expect(errorOf(scenario({ log: '(' })).message).toMatch(
      /^scenario\.sut\.ready\.log: not a valid regular expression \(.+\)$/,
    );
    expect(errorOf(scenario('groups')).message).toMatch(/^scenario\.sut\.ready: expected one of "group", "none"/);
    expect(errorOf(scenario({ logs: 'x' })).message).toMatch(
      /^scenario\.sut\.ready\.logs: unknown field \(known: log, http, tcp\)/,
    );
    expect(errorOf(scenario({})).message).toMatch(/^scenario\.sut\.ready: expected one of "group", "none", \{ "log"/);
    expect(errorOf(scenario({ log: 'x', tcp: 1 })).message).toMatch(/^scenario\.sut\.ready: expected one of/);
    expect(errorOf(scenario({ log: '' })).message).toMatch(/^scenario\.sut\.ready\.log: expected a non-empty string/);
    expect(errorOf(scenario({ http: 'http://example.com/health' })).message).toMatch(
      /^scenario\.sut\.ready\.http: expected an http:\/\/ URL on 127\.0\.0\.1 or localhost/,
    );
    expect(errorOf(scenario({ http: 'not a url' })).message).toMatch(/^scenario\.sut\.ready\.http:/);
    expect(errorOf(scenario({ tcp: 0 })).message).toMatch(
      /^scenario\.sut\.ready\.tcp: expected an integer >= 1 and <= 65535/,
    );
    expect(errorOf(scenario({ tcp: 8080.5 })).message).toMatch(/^scenario\.sut\.ready\.tcp:/);
    expect(errorOf(scenario({ tcp: '10.0.0.1:8080' })).message).toMatch(
      /^scenario\.sut\.ready\.tcp: expected a port \(1-65535\) or "host:port" on 127\.0\.0\.1 or localhost/,
    );
    expect(errorOf(scenario({ tcp: '127.0.0.1:99999' })).message).toMatch(/^scenario\.sut\.ready\.tcp:/);
    expect(errorOf(scenario([])).message).toMatch(/^scenario\.sut\.ready: expected/);
    expect(errorOf(scenario('group', 'soon')).message).toMatch(/^scenario\.sut\.readyTimeout: expected a duration/);
    expect(() => validateReady({ log: '[' }, 'x.ready')).toThrow(/^x\.ready\.log: not a valid regular expression/);
  });
});
