/**
 * Request arrival times at a local server (answers in 5 ms): autocannon's own `overallRate` pacing vs the HTTP load's
 * gated open-model scheduler at the same request rate. `npx tsx harness/load/http-pacing-bench.ts`; the numbers are
 * in docs/load.md ("Why autocannon is gated"). Traffic stays on 127.0.0.1, ~10 s.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import { History } from '../history/index.ts';
import { startHttpLoad } from './http.ts';

const arrivals: number[] = [];
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    arrivals.push(performance.now());
    setTimeout(() => {
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end('{}');
    }, 5);
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as AddressInfo).port;

function stats(name: string) {
  const a = arrivals.splice(0).sort((x, y) => x - y);
  const gaps = a.slice(1).map((t, i) => t - a[i]!);
  const t0 = a[0]!;
  const per100 = new Map<number, number>();
  for (const t of a) per100.set(Math.floor((t - t0) / 100), (per100.get(Math.floor((t - t0) / 100)) ?? 0) + 1);
  const windows = [...Array(Math.ceil((a[a.length - 1]! - t0) / 100)).keys()].map((k) => per100.get(k) ?? 0);
  gaps.sort((x, y) => x - y);
  const q = (p: number) => gaps[Math.min(gaps.length - 1, Math.floor((p / 100) * gaps.length))]!.toFixed(1);
  console.log(
    `${name}: ${a.length} requests; inter-arrival ms p10 ${q(10)} p50 ${q(50)} p90 ${q(90)} max ${q(100)}; requests per 100 ms window: min ${Math.min(...windows)} max ${Math.max(...windows)}; empty windows ${windows.filter((w) => w === 0).length}/${windows.length}`,
  );
}

await new Promise((resolve) =>
  autocannon(
    {
      url: `http://127.0.0.1:${port}/v1/events`,
      method: 'POST',
      connections: 4,
      overallRate: 20,
      duration: 5,
      body: '{}',
    },
    resolve,
  ),
);
stats('autocannon overallRate 20/s, 4 connections');
await startHttpLoad({
  url: `http://127.0.0.1:${port}/v1/events`,
  history: new History(),
  rate: 1000,
  duration: '5s',
  batch: 50,
  connections: 4,
  generator: { users: 1000 },
}).done;
stats('gated (ours) 1000 events/s / 50 = 20 requests/s, 4 connections');
server.close();
