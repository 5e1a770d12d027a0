import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { History, HistoryRecord, OfferedRecord, OutcomeRecord } from '../history/index.ts';
import { FakeClock } from './clock.ts';
import { HttpLoadDriver, startHttpLoad } from './http.ts';
import type { ConnectionEvents, HttpConnection, HttpResponse } from './http-connection.ts';
import { type HttpLoadOptions, resolveHttpLoadOptions } from './http-options.ts';

function recorder() {
  const records: HistoryRecord[] = [];
  const history = { record: (r: HistoryRecord) => records.push(r) } as unknown as History;
  return { records, history };
}

const flush = () => new Promise((r) => setImmediate(r));

/** Every offered event has exactly one outcome, and no outcome lacks its offer. */
function expectOneOutcomeEach(records: HistoryRecord[]) {
  const offered = records.filter((r): r is OfferedRecord => r.kind === 'offered').map((r) => r.eventId);
  const outcomes = records.filter((r): r is OutcomeRecord => r.kind === 'outcome').map((r) => r.eventId);
  expect(new Set(offered).size).toBe(offered.length);
  expect([...outcomes].sort()).toEqual([...offered].sort());
}

/** A connection under a fake clock: answers `respond(body)` after `after` ms (or never: 'hang'). */
class FakeConnection implements HttpConnection {
  sent: { time: number; body: string }[] = [];
  inFlight = 0;
  maxInFlight = 0;
  constructor(
    private readonly clock: FakeClock,
    private readonly ev: ConnectionEvents,
    private readonly answer: (body: string, n: number) => { after: number; res: HttpResponse | undefined } | 'hang',
  ) {
    queueMicrotask(() => ev.idle());
  }
  send(body: Buffer): void {
    const n = this.sent.push({ time: this.clock.now(), body: body.toString() }) - 1;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const a = this.answer(body.toString(), n);
    if (a === 'hang') return;
    this.clock.setTimer(() => {
      this.inFlight--;
      if (a.res) this.ev.response(a.res);
      else this.ev.noResponse('connection reset');
      this.ev.idle();
    }, a.after);
  }
  async close(): Promise<void> {}
}

function accepted(body: string): HttpResponse {
  const lines = body.split('\n').filter((l) => l !== '');
  return {
    status: 202,
    headers: {},
    body: JSON.stringify({ results: lines.map((_, index) => ({ index, status: 'accepted' })) }),
  };
}

async function runFake(
  opts: Partial<HttpLoadOptions>,
  answer: (body: string, n: number) => { after: number; res: HttpResponse | undefined } | 'hang',
  ms: number,
) {
  const clock = new FakeClock();
  const { records, history } = recorder();
  const cfg = resolveHttpLoadOptions({
    url: 'http://127.0.0.1:1/v1/events',
    history,
    generator: { seed: 5, users: 40 },
    ...opts,
  } as HttpLoadOptions);
  const transports: FakeConnection[] = [];
  const driver = new HttpLoadDriver(cfg, {
    history,
    clock,
    connect: (_lane, ev) => {
      const t = new FakeConnection(clock, ev, answer);
      transports.push(t);
      return t;
    },
  });
  await flush();
  driver.start();
  for (let t = 0; t < ms; t++) {
    clock.advance(1);
    await flush();
  }
  return { driver, records, transports, clock };
}

describe('HttpLoadDriver scheduling (fake clock)', () => {
  it('forms requests of `batch` events of one lane, due at their last event, at a constant arrival rate', async () => {
    const { driver, records, transports } = await runFake(
      { rate: 1000, duration: 200, batch: 10, connections: 2 },
      (body) => ({ after: 3, res: accepted(body) }),
      400,
    );
    const s = await driver.done;
    expect(s.offered).toBe(200);
    expect(s.acked).toBe(200);
    expect(s.scheduled).toBe(200);
    expectOneOutcomeEach(records);
    const offered = new Map(
      records.filter((r): r is OfferedRecord => r.kind === 'offered').map((r) => [r.eventId, r] as const),
    );
    for (const [lane, t] of transports.entries()) {
      expect(t.maxInFlight).toBe(1);
      for (const req of t.sent) {
        const events = req.body
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { event_id: string; user_id: string; sent_at: number });
        // One lane's users only: user index % connections.
        for (const e of events) expect(Number(e.user_id.slice(1)) % 2).toBe(lane);
        const last = Math.max(...events.map((e) => e.sent_at));
        // Sent when the last event was due (the clock moves in 1 ms steps), and the History's sentAt is that time;
        // a lane's final partial batch is due when the schedule ends.
        const intended = offered.get(events[0]!.event_id)!.sentAt;
        if (events.length === 10) expect(intended).toBe(last);
        else expect(intended).toBeGreaterThanOrEqual(last);
        expect(req.time).toBeGreaterThanOrEqual(intended);
        expect(req.time - intended).toBeLessThanOrEqual(1);
        for (const e of events) expect(offered.get(e.event_id)!.sentAt).toBe(intended);
      }
    }
    // Full batches except each lane's last.
    const sizes = transports.flatMap((t) => t.sent.map((r) => r.body.trim().split('\n').length));
    expect(sizes.filter((n) => n !== 10).length).toBeLessThanOrEqual(2);
    // 20 requests over 200 ms: the arrival rate is rate / batch.
    expect(s.requests).toBe(sizes.length);
  });

  it('keeps offering on schedule when responses are slow; queued requests count latency from their intended time', async () => {
    const { driver, records, transports } = await runFake(
      { rate: 1000, duration: 100, batch: 10, connections: 1 },
      (body) => ({ after: 40, res: accepted(body) }),
      1000,
    );
    const s = await driver.done;
    expect(s.acked).toBe(100);
    expectOneOutcomeEach(records);
    // Requests are offered at their intended times (no lag), though only one is in flight at a time.
    expect(s.scheduleLag.maxMs).toBeLessThanOrEqual(1);
    expect(transports[0]!.maxInFlight).toBe(1);
    // The 10th request waited for nine 40 ms requests ahead of it: its latency is far above 40 ms.
    expect(s.requestLatency!.maxMs).toBeGreaterThan(250);
    expect(s.serviceTime!.maxMs).toBeLessThanOrEqual(41);
  });

  it('records unknown for a request that gets no answer, failed for what the drain never sent', async () => {
    const { driver, records } = await runFake(
      { rate: 1000, duration: 50, batch: 10, connections: 1, timeoutMs: 1000, drainTimeoutMs: 200 },
      (_body, n) => (n === 0 ? 'hang' : { after: 1, res: { status: 202, body: '', headers: {} } }),
      600,
    );
    const s = await driver.done;
    expectOneOutcomeEach(records);
    expect(s.offered).toBe(50);
    // The first request hangs and the drain (200 ms) ends before any timeout: its 10 events are unknown, the 40
    // still queued behind it were never sent: failed.
    expect(s.unknown).toBe(10);
    expect(s.failed).toBe(40);
    expect(s.drainComplete).toBe(false);
  });
});

describe('startHttpLoad over autocannon against a local server', () => {
  let server: Server | undefined;
  afterEach(async () => {
    const s = server;
    server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  });

  async function listen(handler: (req: IncomingMessage, body: string, n: number) => HttpResponse | 'destroy' | 'hang') {
    let n = 0;
    const seen: { time: number; lines: { event_id: string; user_id: string; user_seq: number }[] }[] = [];
    server = createServer((req, res) => {
      if (req.url === '/healthz') {
        res.end('{"ok":true}');
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        seen.push({
          time: Date.now(),
          lines: body
            .split('\n')
            .filter((l) => l !== '')
            .map((l) => JSON.parse(l)),
        });
        const a = handler(req, body, n++);
        if (a === 'destroy') req.socket.destroy();
        else if (a !== 'hang') {
          res.writeHead(a.status, { 'content-type': 'application/json', ...(a.headers as Record<string, string>) });
          res.end(a.body);
        }
      });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    return { port: (server!.address() as AddressInfo).port, seen };
  }

  it('maps real responses to outcomes, sends the bearer token, and keeps each user in user_seq order', async () => {
    const auth: (string | undefined)[] = [];
    const { port, seen } = await listen((req, body, n) => {
      auth.push(req.headers.authorization);
      if (req.headers['content-type'] !== 'application/x-ndjson') return { status: 415, body: '', headers: {} };
      if (n === 2) return { status: 429, body: '{"error":"busy"}', headers: { 'retry-after': '1' } };
      if (n === 3) return { status: 503, body: '{"error":"produce failed"}', headers: {} };
      if (n === 4) return 'destroy';
      if (n === 5) return { status: 413, body: '{"error":"too large"}', headers: {} };
      const lines = body.split('\n').filter((l) => l !== '');
      // Reject the first event of every request from the 7th on, accept the rest.
      return {
        status: 202,
        headers: {},
        body: JSON.stringify({
          results: lines.map((_, index) =>
            n >= 6 && index === 0
              ? { index, status: 'rejected', reason: 'rules: test' }
              : { index, status: 'accepted' },
          ),
        }),
      };
    });
    const { records, history } = recorder();
    const load = startHttpLoad({
      url: `http://127.0.0.1:${port}/v1/events`,
      history,
      generator: { seed: 3, users: 30 },
      rate: 400,
      duration: '1s',
      batch: 20,
      connections: 3,
      token: 'sekret',
      timeoutMs: 2000,
    });
    const s = await load.done;
    expectOneOutcomeEach(records);
    expect(s.offered).toBe(400);
    expect(s.acked + s.failed + s.unknown).toBe(400);
    expect(auth.every((a) => a === 'Bearer sekret')).toBe(true);
    const outcomes = records.filter((r): r is OutcomeRecord => r.kind === 'outcome');
    // 429: 20 failed + throttled; 503 and the destroyed connection: unknown; 413: failed; rejected: failed.
    expect(s.throttled).toBe(20);
    expect(s.statuses['429']).toBe(1);
    expect(s.statuses['503']).toBe(1);
    expect(s.statuses['413']).toBe(1);
    expect(s.statuses.none).toBe(1);
    expect(s.unknown).toBe(40);
    expect(s.rejected).toBe(s.requests - 6);
    expect(s.failed).toBe(20 + 20 + s.rejected);
    expect(outcomes.filter((o) => o.error?.includes('throttled')).length).toBe(20);
    expect(s.requestLatency?.count).toBe(s.requests - 1);
    // Per user, the server saw user_seq strictly increasing (one lane per user, one request in flight per lane).
    const last = new Map<string, number>();
    for (const req of seen)
      for (const e of req.lines) {
        expect(e.user_seq).toBeGreaterThan(last.get(e.user_id) ?? -1);
        last.set(e.user_id, e.user_seq);
      }
    expect(seen.reduce((a, r) => a + r.lines.length, 0)).toBe(400);
  });

  it('a request with no answer within timeoutMs is unknown and the lane goes on', async () => {
    const { port } = await listen((_req, body, n) => (n === 0 ? 'hang' : accepted(body)));
    const { records, history } = recorder();
    const s = await startHttpLoad({
      url: `http://127.0.0.1:${port}/v1/events`,
      history,
      generator: { seed: 4, users: 10 },
      rate: 100,
      duration: '500ms',
      batch: 10,
      connections: 1,
      timeoutMs: 1000,
    }).done;
    expectOneOutcomeEach(records);
    expect(s.unknown).toBe(10);
    expect(s.acked).toBe(40);
    expect(
      records.some((r) => r.kind === 'outcome' && r.outcome === 'unknown' && /no response|closed/.test(r.error ?? '')),
    ).toBe(true);
  });

  it('rejects ready and done with LOAD_CONNECT_FAILED when nothing listens', async () => {
    const { history } = recorder();
    const load = startHttpLoad({ url: 'http://127.0.0.1:1/v1/events', history, rate: 10, duration: '1s' });
    await expect(load.done).rejects.toMatchObject({ code: 'LOAD_CONNECT_FAILED' });
    await expect(load.ready).rejects.toMatchObject({ code: 'LOAD_CONNECT_FAILED' });
  });
});
