/**
 * Raw Kafka requests with parsers of our own, over @platformatic/kafka's `Connection` and request writers: what the
 * fence and rebalance faults need (txn-fence.ts, group-member.ts) and the client's own APIs do not give (error codes
 * with the response beside them, InitProducerId for any transactional id, a group member that processes nothing).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection, findCoordinatorV6, protocolErrorsCodesById, type Reader, type Writer } from '@platformatic/kafka';
import { StreamproofError } from '../util/errors.ts';
import { type Bootstrap, bootstrapList } from './clients.ts';
import { securityFor } from './security.ts';

export const COORDINATOR_LOAD_IN_PROGRESS = 14;
export const COORDINATOR_NOT_AVAILABLE = 15;
export const NOT_COORDINATOR = 16;
/** Errors that a coordinator moving or loading gives: ask again (after finding it again). */
export const COORDINATOR_RETRIABLE = new Set([
  COORDINATOR_LOAD_IN_PROGRESS,
  COORDINATOR_NOT_AVAILABLE,
  NOT_COORDINATOR,
]);

export function errorName(code: number): string {
  return protocolErrorsCodesById[code] ?? 'UNKNOWN_ERROR';
}

/** A request answered with an error: StreamproofError `KAFKA_PROTOCOL`, details `{ api, errorCode }`. */
export function protocolError(api: string, errorCode: number, detail?: string | null): StreamproofError {
  return new StreamproofError(
    'KAFKA_PROTOCOL',
    `${api}: ${errorName(errorCode)} (${errorCode})${detail ? `: ${detail}` : ''}`,
    { api, errorCode },
  );
}

export function errorCodeOf(err: unknown): number | undefined {
  return err instanceof StreamproofError && err.code === 'KAFKA_PROTOCOL'
    ? (err.details.errorCode as number)
    : undefined;
}

/** One request with a parser of ours; a parse error or a network error rejects. */
export function send<T>(
  conn: Connection,
  api: { key: number; version: number },
  request: Writer,
  parse: (r: Reader) => T,
): Promise<T> {
  return new Promise((resolve, reject) => {
    conn.send(
      api.key,
      api.version,
      () => request,
      (_correlationId, _apiKey, _apiVersion, reader) => parse(reader),
      true,
      true,
      (err, payload) => (err ? reject(err) : resolve(payload as T)),
    );
  });
}

export function splitAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port: Number(address.slice(i + 1)) };
}

export async function connect(
  host: string,
  port: number,
  clientId: string,
  requestTimeoutMs: number,
): Promise<Connection> {
  const c = new Connection(clientId, {
    connectTimeout: 5000,
    requestTimeout: requestTimeoutMs,
    ...securityFor(`${host}:${port}`),
  });
  try {
    await c.connect(host, port);
  } catch (err) {
    await c.close().catch(() => {});
    throw err;
  }
  return c;
}

/** The first broker of `bootstrap` that accepts a connection. */
export async function connectAny(bootstrap: Bootstrap, clientId: string, requestTimeoutMs: number) {
  let last: unknown;
  for (const address of bootstrapList(bootstrap)) {
    const { host, port } = splitAddress(address);
    try {
      return await connect(host, port, clientId, requestTimeoutMs);
    } catch (err) {
      last = err;
    }
  }
  throw last ?? new Error(`no broker address in "${String(bootstrap)}"`);
}

export interface Coordinator {
  readonly key: string;
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
}

/**
 * The coordinators of `keys` (key type 0: groups, 1: transactional ids), retrying while one is moving or loading
 * until `deadline` (epoch ms). Other errors throw `KAFKA_PROTOCOL`.
 */
export async function findCoordinators(
  bootstrap: Bootstrap,
  keyType: 0 | 1,
  keys: readonly string[],
  clientId: string,
  deadline: number,
): Promise<Coordinator[]> {
  let backoff = 100;
  for (;;) {
    const conn = await connectAny(bootstrap, clientId, 10_000);
    try {
      const found = await send(
        conn,
        findCoordinatorV6.api,
        findCoordinatorV6.createRequest(keyType, [...keys]),
        (r) => {
          r.readInt32();
          const out = r.readArray((x) => ({
            key: x.readString(),
            nodeId: x.readInt32(),
            host: x.readString(),
            port: x.readInt32(),
            errorCode: x.readInt16(),
            errorMessage: x.readNullableString(),
          }));
          r.readTaggedFields();
          return out;
        },
      );
      const failed = found.find((c) => c.errorCode !== 0);
      if (!failed) return found;
      if (!COORDINATOR_RETRIABLE.has(failed.errorCode) || Date.now() + backoff >= deadline) {
        throw protocolError('FindCoordinator', failed.errorCode, failed.errorMessage);
      }
    } finally {
      await conn.close().catch(() => {});
    }
    await sleep(backoff);
    backoff = Math.min(backoff * 2, 1000);
  }
}
