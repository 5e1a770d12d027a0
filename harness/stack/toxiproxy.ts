/**
 * The real Toxiproxy server, one proxy per broker (`broker-<id>`), driven with toxiproxy-node-client.
 */
import { join } from 'node:path';
import { Toxiproxy } from 'toxiproxy-node-client';
import { launch, type ManagedProcess } from './process.ts';
import { httpOk, waitFor } from './wait.ts';

export interface StartedToxiproxy {
  process: ManagedProcess;
  api: string;
  client: Toxiproxy;
}

export async function startToxiproxy(opts: { bin: string; port: number; dir: string }): Promise<StartedToxiproxy> {
  const proc = await launch({
    name: 'toxiproxy',
    command: opts.bin,
    args: ['-host', '127.0.0.1', '-port', String(opts.port)],
    logFile: join(opts.dir, 'toxiproxy.log'),
  });
  const api = `http://127.0.0.1:${opts.port}`;
  await waitFor('toxiproxy API', () => httpOk(`${api}/version`), {
    timeoutMs: 15_000,
    intervalMs: 50,
    failFast: () => (proc.running() ? undefined : `toxiproxy exited on start:\n${proc.logTail()}`),
  });
  return { process: proc, api, client: new Toxiproxy(api) };
}

export function proxyName(brokerId: number): string {
  return `broker-${brokerId}`;
}
