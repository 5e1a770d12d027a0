/**
 * Transactional ids, seen and taken over: which ids the transaction coordinators know (DescribeTransactions for given
 * ids, ListTransactions on every broker for all of them) and `fenceTransactionalId`, an InitProducerId with an id
 * from a producer of the harness. That is what a zombie takeover does: the coordinator bumps the id's epoch, aborts
 * the transaction the old producer had open, and answers the old producer's next request with PRODUCER_FENCED
 * (or INVALID_PRODUCER_EPOCH). The harness's producer then opens no transaction: closing its connection is all there
 * is to undo, and the SUT's next InitProducerId takes the id back.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type Connection, describeTransactionsV0, initProducerIdV5, listTransactionsV1 } from '@platformatic/kafka';
import { type Bootstrap, clusterBootstrap } from './clients.ts';
import {
  COORDINATOR_RETRIABLE,
  connect,
  connectAny,
  errorCodeOf,
  findCoordinators,
  protocolError,
  send,
  splitAddress,
} from './raw.ts';

const CLIENT_ID = 'streamproof-fence';
const CONCURRENT_TRANSACTIONS = 51;
const TRANSACTIONAL_ID_NOT_FOUND = 105;

export interface TransactionState {
  readonly transactionalId: string;
  /** As the coordinator spells it: Empty, Ongoing, PrepareCommit, CompleteCommit, PrepareAbort, CompleteAbort, ... */
  readonly state: string;
  readonly producerId: bigint;
  readonly producerEpoch: number;
}

/** The given ids that a coordinator knows (unknown ids are left out), in the order given. */
export async function describeTransactions(
  bootstrap: Bootstrap,
  ids: readonly string[],
  timeoutMs = 10_000,
): Promise<TransactionState[]> {
  if (ids.length === 0) return [];
  const deadline = Date.now() + timeoutMs;
  const coordinators = await findCoordinators(bootstrap, 1, ids, CLIENT_ID, deadline);
  const byAddress = new Map<string, string[]>();
  for (const c of coordinators) {
    const a = `${c.host}:${c.port}`;
    byAddress.set(a, [...(byAddress.get(a) ?? []), c.key]);
  }
  const found = new Map<string, TransactionState>();
  for (const [address, keys] of byAddress) {
    const { host, port } = splitAddress(address);
    const conn = await connect(host, port, CLIENT_ID, timeoutMs);
    try {
      const states = await send(conn, describeTransactionsV0.api, describeTransactionsV0.createRequest(keys), (r) => {
        r.readInt32();
        const out = r.readArray((x) => {
          const s = {
            errorCode: x.readInt16(),
            transactionalId: x.readString(),
            state: x.readString(),
            producerId: 0n,
            producerEpoch: 0,
          };
          x.readInt32(); // transaction_timeout_ms
          x.readInt64(); // transaction_start_time_ms
          s.producerId = x.readInt64();
          s.producerEpoch = x.readInt16();
          x.readArray((t) => {
            t.readString();
            t.readArray((p) => p.readInt32(), true, false);
          });
          return s;
        });
        r.readTaggedFields();
        return out;
      });
      for (const s of states) {
        if (s.errorCode === TRANSACTIONAL_ID_NOT_FOUND) continue;
        if (s.errorCode !== 0) throw protocolError('DescribeTransactions', s.errorCode, s.transactionalId);
        found.set(s.transactionalId, {
          transactionalId: s.transactionalId,
          state: s.state,
          producerId: s.producerId,
          producerEpoch: s.producerEpoch,
        });
      }
    } finally {
      await conn.close().catch(() => {});
    }
  }
  return ids.flatMap((id) => (found.has(id) ? [found.get(id)!] : []));
}

/** Every transactional id the cluster's coordinators know (ListTransactions on every broker), with its state. */
export async function listTransactions(
  bootstrap: Bootstrap,
  timeoutMs = 10_000,
): Promise<{ transactionalId: string; state: string }[]> {
  const out = new Map<string, string>();
  const errors: string[] = [];
  const brokers = await clusterBootstrap(bootstrap, CLIENT_ID);
  for (const address of brokers) {
    const { host, port } = splitAddress(address);
    let conn: Connection | undefined;
    try {
      conn = await connect(host, port, CLIENT_ID, timeoutMs);
      const res = await send(conn, listTransactionsV1.api, listTransactionsV1.createRequest([], [], -1n, null), (r) => {
        r.readInt32();
        const errorCode = r.readInt16();
        r.readArray((x) => x.readString(), true, false);
        const states = r.readArray((x) => ({
          transactionalId: x.readString(),
          producerId: x.readInt64(),
          state: x.readString(),
        }));
        r.readTaggedFields();
        return { errorCode, states };
      });
      if (res.errorCode !== 0) throw protocolError('ListTransactions', res.errorCode);
      for (const s of res.states) out.set(s.transactionalId, s.state);
    } catch (err) {
      errors.push(`${address}: ${(err as Error).message}`);
    } finally {
      await conn?.close().catch(() => {});
    }
  }
  // A broker that did not answer may coordinate some of them: an incomplete list would fence too little, unsaid.
  if (errors.length > 0) throw new Error(`ListTransactions failed on ${errors.join('; ')}`);
  return [...out].map(([transactionalId, state]) => ({ transactionalId, state }));
}

/** The harness's producer that took over a transactional id; `close()` is its whole undo. */
export interface Fencer {
  readonly transactionalId: string;
  /** The producer id and the epoch the harness got (the SUT's producer had an older epoch). */
  readonly producerId: bigint;
  readonly producerEpoch: number;
  close(): Promise<void>;
}

/**
 * InitProducerId with `transactionalId` (producer id and epoch -1: a new producer, as a restarted instance asks),
 * retried while the coordinator aborts the fenced producer's open transaction (CONCURRENT_TRANSACTIONS) or moves,
 * until `timeoutMs`. Resolves once the id's epoch is bumped: the SUT's producer is fenced from then on.
 */
export async function fenceTransactionalId(
  bootstrap: Bootstrap,
  transactionalId: string,
  opts: { timeoutMs?: number; transactionTimeoutMs?: number } = {},
): Promise<Fencer> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let backoff = 50;
  for (;;) {
    const [c] = await findCoordinators(bootstrap, 1, [transactionalId], CLIENT_ID, deadline);
    const conn = c ? await connect(c.host, c.port, CLIENT_ID, 10_000) : await connectAny(bootstrap, CLIENT_ID, 10_000);
    let keep = false;
    try {
      const res = await send(
        conn,
        initProducerIdV5.api,
        initProducerIdV5.createRequest(transactionalId, opts.transactionTimeoutMs ?? 60_000, -1n, -1),
        (r) => {
          r.readInt32();
          const errorCode = r.readInt16();
          const producerId = r.readInt64();
          const producerEpoch = r.readInt16();
          r.readTaggedFields();
          return { errorCode, producerId, producerEpoch };
        },
      );
      if (res.errorCode === 0) {
        keep = true;
        return {
          transactionalId,
          producerId: res.producerId,
          producerEpoch: res.producerEpoch,
          close: () => conn.close().catch(() => {}),
        };
      }
      const retriable = res.errorCode === CONCURRENT_TRANSACTIONS || COORDINATOR_RETRIABLE.has(res.errorCode);
      if (!retriable || Date.now() + backoff >= deadline) {
        throw protocolError('InitProducerId', res.errorCode, transactionalId);
      }
    } catch (err) {
      const code = errorCodeOf(err);
      if (code !== undefined || Date.now() + backoff >= deadline) throw err;
      // a network error: the coordinator may have moved; ask again
    } finally {
      if (!keep) await conn.close().catch(() => {});
    }
    await sleep(backoff);
    backoff = Math.min(backoff * 2, 500);
  }
}
