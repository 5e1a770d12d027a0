/**
 * Kafka plumbing shared by the components (@platformatic/kafka): topic creation that tolerates a concurrent creator,
 * partition counts, and header helpers. Values and keys travel as Buffers; the components encode them.
 */
import { inspect } from 'node:util';
import { Admin, kGetConnection, NetworkError } from '@platformatic/kafka';

/**
 * Guards a client against @platformatic/kafka 1.35 asking its connection pool for a broker that is not in its cached
 * metadata (a group or transaction coordinator that just restarted and was missing when the metadata was read): the
 * pool dereferences `undefined` inside a callback, an uncaught TypeError that kills the process. Guarded, that call
 * fails like a lost connection, without retries (they would reuse the same stale metadata), and the cached metadata
 * is dropped, so the caller's next attempt reads fresh metadata. Returns the client.
 */
export function guarded<C extends object>(client: C): C {
  const c = client as unknown as Record<symbol, (broker: unknown, callback: (error: unknown) => void) => void> & {
    clearMetadata?: () => void;
  };
  const get = c[kGetConnection]!.bind(client);
  c[kGetConnection] = (broker, callback) => {
    if (broker === undefined || broker === null) {
      try {
        c.clearMetadata?.();
      } catch {
        // a closing client may refuse; the error below is what matters
      }
      callback(
        new NetworkError('the broker asked for (a coordinator or leader) is not in the cached metadata', {
          canRetry: false,
        }),
      );
      return;
    }
    get(broker, callback);
  };
  return client;
}

export function adminClient(bootstrap: string[], clientId: string): Admin {
  return guarded(new Admin({ clientId, bootstrapBrokers: bootstrap, retries: 5, retryDelay: 250, timeout: 15_000 }));
}

/**
 * Every broker of the cluster as it advertises itself on the listener `bootstrap` reaches (the proxied one for the
 * SUT), after the given addresses: a client bootstrapped on one broker cannot start while that broker is down (a
 * rolling restart takes each one down in turn), so long-lived components bootstrap on all of them. Falls back to
 * the given list when the metadata cannot be read within `timeoutMs`.
 */
export async function discoverBootstrap(bootstrap: string[], clientId: string, timeoutMs = 10_000): Promise<string[]> {
  const admin = guarded(
    new Admin({ clientId, bootstrapBrokers: bootstrap, retries: 2, retryDelay: 250, timeout: 5_000 }),
  );
  let timer: NodeJS.Timeout | undefined;
  try {
    const md = await Promise.race([
      admin.metadata({ topics: [], forceUpdate: true }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('metadata: no answer')), timeoutMs);
      }),
    ]);
    const found = [...md.brokers.entries()].sort((x, y) => x[0] - y[0]).map(([, b]) => `${b.host}:${b.port}`);
    return [...new Set([...bootstrap, ...found])];
  } catch {
    return bootstrap;
  } finally {
    clearTimeout(timer);
    await admin.close().catch(() => {});
  }
}

/** The list rotated left by `k`: each new session of a component asks another broker first. */
export function rotate<T>(list: readonly T[], k: number): T[] {
  if (list.length === 0) return [];
  const n = ((k % list.length) + list.length) % list.length;
  return [...list.slice(n), ...list.slice(0, n)];
}

export interface TopicSpec {
  name: string;
  partitions: number;
  configs?: Record<string, string>;
}

/**
 * Creates the missing topics of `specs`; existing ones are left alone (their partition count is returned, so a caller
 * that needs co-partitioning can check it). Replication defaults to min(3, brokers).
 */
export async function ensureTopics(
  bootstrap: string[],
  specs: TopicSpec[],
  replicationFactor?: number,
): Promise<Map<string, number>> {
  const admin = adminClient(bootstrap, 'streamproof-reference-admin');
  try {
    const md = await admin.metadata({ topics: [], forceUpdate: true });
    const rf = replicationFactor ?? Math.min(3, md.brokers.size);
    const existing = new Set(await admin.listTopics());
    for (const spec of specs) {
      if (existing.has(spec.name)) continue;
      try {
        await admin.createTopics({
          topics: [spec.name],
          partitions: spec.partitions,
          replicas: rf,
          configs: Object.entries(spec.configs ?? {}).map(([name, value]) => ({ name, value })),
        });
      } catch (err) {
        // Another component created it between our list and our create: fine.
        if (!/already exists/i.test(describe(err))) throw err;
      }
    }
    const counts = new Map<string, number>();
    const after = await admin.metadata({ topics: specs.map((s) => s.name), forceUpdate: true });
    for (const s of specs) counts.set(s.name, after.topics.get(s.name)?.partitionsCount ?? 0);
    return counts;
  } finally {
    await admin.close().catch(() => {});
  }
}

export async function partitionCount(bootstrap: string[], topic: string): Promise<number> {
  const admin = adminClient(bootstrap, 'streamproof-reference-admin');
  try {
    const md = await admin.metadata({ topics: [topic], forceUpdate: true });
    return md.topics.get(topic)?.partitionsCount ?? 0;
  } finally {
    await admin.close().catch(() => {});
  }
}

function describe(err: unknown): string {
  const e = err as Error & { errors?: unknown[]; cause?: unknown };
  return [e?.message, ...(e?.errors ?? []).map((x) => (x as Error)?.message), (e?.cause as Error)?.message].join(' ');
}

export function headers(h: Record<string, string>): Map<Buffer, Buffer> {
  const m = new Map<Buffer, Buffer>();
  for (const [k, v] of Object.entries(h)) m.set(Buffer.from(k), Buffer.from(v));
  return m;
}

export function headerValue(h: Map<unknown, unknown> | undefined, name: string): string | undefined {
  if (!h) return undefined;
  for (const [k, v] of h) {
    if (String(k) === name) return v === undefined || v === null ? undefined : String(v);
  }
  return undefined;
}

/**
 * True for errors that mean we no longer own what we were writing for: another producer with our transactional id
 * (a newer epoch) took over, or the group moved on to a newer generation. Either way the group will send a new
 * assignment; retrying before it would fight the rightful owner.
 */
export function isFencingError(err: unknown): boolean {
  return /fenc|INVALID_PRODUCER_EPOCH|ILLEGAL_GENERATION|UNKNOWN_MEMBER_ID|REBALANCE_IN_PROGRESS|generation id/i.test(
    errorText(err),
  );
}

/** Everything an error says, nested errors and causes included (the client wraps protocol errors twice). */
export function errorText(err: unknown): string {
  const leaves: string[] = [];
  const walk = (e: unknown, depth: number) => {
    if (depth > 6 || e === null || typeof e !== 'object') return;
    const x = e as Error & { errors?: unknown[]; cause?: unknown; code?: unknown; apiId?: unknown; apiCode?: unknown };
    const nested = [...(Array.isArray(x.errors) ? x.errors : []), ...(x.cause ? [x.cause] : [])];
    if (nested.length === 0) {
      leaves.push(
        [x.message, x.code, x.apiId, x.apiCode].filter((v) => v !== undefined).join(' | ') ||
          inspect(e, { depth: 2, breakLength: Number.POSITIVE_INFINITY }),
      );
    }
    for (const n of nested) walk(n, depth + 1);
  };
  walk(err, 0);
  return `${(err as Error)?.message ?? String(err)}: ${[...new Set(leaves)].join('; ')}`;
}

/**
 * Splits messages into sends of at most `maxBytes` (keys, values and headers). The client writes one record batch per
 * partition and send and does not split it, so one send must stay under the broker's message.max.bytes (1 MiB by
 * default) or the whole send fails with MESSAGE_TOO_LARGE, again on every retry.
 */
export function chunkBySize<M extends { key?: Buffer; value?: Buffer; headers?: Map<Buffer, Buffer> }>(
  messages: M[],
  maxBytes = 512 * 1024,
): M[][] {
  const chunks: M[][] = [];
  let current: M[] = [];
  let size = 0;
  for (const m of messages) {
    let bytes = 70 + (m.key?.length ?? 0) + (m.value?.length ?? 0);
    for (const [k, v] of m.headers ?? []) bytes += k.length + v.length + 4;
    if (current.length > 0 && size + bytes > maxBytes) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(m);
    size += bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Collects a consumer stream's messages for a micro-batch loop: the stream is paused once `highWater` messages wait
 * (bounded memory under a backlog) and resumed when the loop takes them. A stream error is fatal for the component:
 * `onError` decides what that means (the components exit for a restart).
 */
export function bufferMessages<M>(
  stream: {
    on(event: 'data', fn: (m: M) => void): unknown;
    on(event: 'error', fn: (err: unknown) => void): unknown;
    pause(): unknown;
    resume(): unknown;
  },
  highWater: number,
  onError: (err: unknown) => void,
): { take(): M[]; readonly size: number } {
  const waiting: M[] = [];
  let paused = false;
  stream.on('data', (m: M) => {
    waiting.push(m);
    if (!paused && waiting.length >= highWater) {
      paused = true;
      stream.pause();
    }
  });
  stream.on('error', onError);
  return {
    take() {
      const batch = waiting.splice(0);
      if (paused) {
        paused = false;
        stream.resume();
      }
      return batch;
    },
    get size() {
      return waiting.length;
    },
  };
}

/** The client's error chain carries this broker error code (a ProtocolError inside a MultipleErrors / ResponseError). */
function hasApiId(error: unknown, id: string): boolean {
  const e = error as { findBy?: (property: string, value: unknown) => unknown; apiId?: unknown };
  return e?.apiId === id || (typeof e?.findBy === 'function' && e.findBy('apiId', id) !== null);
}

/**
 * A `retryDelay` for transactional producers: `CONCURRENT_TRANSACTIONS` (the previous transaction's markers are
 * still being written: back-to-back transactions on one transactional id always meet it) is retried after
 * `concurrentMs` (Kafka's Java client uses 20 ms for exactly this case), doubling on each further attempt up to
 * `otherMs` (a busy broker's markers can take longer, and the retries are counted); every other error after `otherMs`.
 */
export function transactionRetryDelay(
  otherMs: number,
  concurrentMs = 20,
): (client: unknown, operation: string, attempt: number, retries: number, error: unknown) => number {
  return (_client, _operation, attempt, _retries, error) =>
    hasApiId(error, 'CONCURRENT_TRANSACTIONS')
      ? Math.min(otherMs, concurrentMs * 2 ** Math.max(0, attempt - 1))
      : otherMs;
}
