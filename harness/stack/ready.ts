/**
 * What "ready" means for any stack the harness runs (local processes or containers): every broker is in the cluster
 * metadata, a probe record round-trips through the proxied bootstrap with acks=all, and a probe transaction commits
 * (so the transaction log exists before any pipeline needs it).
 */
import { brokerIds, ensureTopic, probeTransaction, roundTrip } from '../kafka/clients.ts';
import type { Progress } from '../util/progress.ts';
import { waitFor } from './wait.ts';

export async function waitClusterReady(o: {
  bootstrap: string;
  proxiedBootstrap: string;
  brokers: number;
  timeoutMs: number;
  progress: Progress;
  /** A reason to stop waiting at once (a broker that died on start), or undefined. */
  failFast: () => string | undefined | Promise<string | undefined>;
}): Promise<void> {
  const { bootstrap, proxiedBootstrap, brokers: n, timeoutMs, failFast } = o;
  await waitFor('all brokers in the cluster metadata', async () => (await brokerIds(bootstrap)).length === n, {
    timeoutMs,
    intervalMs: 250,
    failFast,
  });
  o.progress({ phase: 'stack', message: `${n} broker(s) up; probing through the proxied bootstrap` });
  const probeTopic = '__streamproof_probe';
  await ensureTopic(bootstrap, probeTopic, { partitions: 1, replicas: Math.min(3, n) });
  await waitFor(
    'a probe record round-trip through toxiproxy',
    async () => (await roundTrip(proxiedBootstrap, probeTopic, 15_000)) >= 0,
    { timeoutMs, intervalMs: 500, failFast },
  );
  o.progress({ phase: 'stack', message: 'probe record read back; committing a probe transaction' });
  await probeTransaction(proxiedBootstrap, probeTopic);
}
