/**
 * The lake sink: `attributions` and `events` (read_committed) into Parquet files under `date=YYYY-MM-DD/hour=HH/`,
 * made visible by the commit log (commit-log.ts).
 *
 * Model: the lake, not the consumer group, owns the position. On start the sink reads the last commit, deletes files
 * no commit names, and seeks its consumer to the commit's offsets (earliest where it has none). It buffers records
 * and every `flushMs` (or `flushRecords`) writes one Parquet file per table and hour through DuckDB (an in-memory
 * table, `COPY ... TO ... (FORMAT parquet)`), then commits the files together with the position after the last
 * record they hold. A crash before the commit's rename leaves files no commit names (ignored, then deleted) and the
 * old position (the records are read again); after it, the records are in the lake and the position is past them.
 * Either way each record is in the committed lake exactly once. One sink instance per lake directory.
 *
 * Broker faults: when the consumer's stream fails (the client gives up on a broker that is down) the sink does not
 * exit. The consumer is replaced (a new session, bootstrapped on every broker of the cluster, the list rotated) and
 * seeks to where the sink stands: the committed position, moved past what is buffered. Buffered rows stay; nothing is
 * read twice, nothing skipped.
 *
 * Rows keep their Kafka coordinates (`kafka_partition`, `kafka_offset`) so a duplicate can be traced to its source.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Consumer, type Message } from '@platformatic/kafka';
import type { CommonConfig } from '../common/config.ts';
import { EventDecoder } from '../common/event-codec.ts';
import { startStatusServer } from '../common/http.ts';
import { bufferMessages, discoverBootstrap, ensureTopics, guarded, rotate } from '../common/kafka.ts';
import { pause, startWithin, within } from '../common/lifecycle.ts';
import { errorFields, type Logger } from '../common/log.ts';
import { Registry } from '../common/metrics.ts';
import { SchemaRegistryClient } from '../common/registry.ts';
import { type Cell, hourOf, LAKE_COLUMNS } from './columns.ts';
import {
  fsyncFiles,
  type LakeCommit,
  type LakeFile,
  type LakeTable,
  readCommits,
  removeUncommitted,
  writeCommit,
} from './commit-log.ts';

export interface LakeSinkConfig extends CommonConfig {
  lakeDir: string;
  flushMs: number;
  flushRecords: number;
}

/** Hooks of the sink, for builds that change it without forking it. None is set by default. */
export interface LakeSinkHooks {
  /** Awaited between writing (and fsyncing) a flush's files and writing its commit. */
  beforeCommit?(): Promise<void> | void;
}

export interface StartedLakeSink {
  readonly metricsPort: number;
  stop(): Promise<void>;
}

export { hourOf, LAKE_COLUMNS } from './columns.ts';

type Msg = Message<Buffer, Buffer, Buffer, Buffer>;
interface Row {
  table: LakeTable;
  time: number;
  cells: Cell[];
}

async function closeQuietly(client: { close(force?: boolean): Promise<void> }): Promise<void> {
  try {
    await client.close(true);
  } catch {
    // a client that failed (broker gone) may fail to close too; there is nothing left to release
  }
}

export async function startLakeSink(
  cfg: LakeSinkConfig,
  log: Logger,
  hooks: LakeSinkHooks = {},
): Promise<StartedLakeSink> {
  const metrics = new Registry();
  const rowsTotal = metrics.counter('lake_rows_total', 'Rows committed to the lake, by table');
  const commitsTotal = metrics.counter('lake_commits_total', 'Commits written');
  const filesTotal = metrics.counter('lake_files_total', 'Parquet files committed');
  const skipped = metrics.counter('lake_skipped_total', 'Records not written (undecodable), by table');
  const inProgress = metrics.gauge('lake_commit_in_progress', '1 while files are written and not yet committed');
  const pendingFiles = metrics.gauge(
    'lake_files_pending_commit',
    'data files written and fsynced that no commit names yet',
  );
  const commitLatency = metrics.histogram('lake_commit_latency_seconds', 'Time to write, fsync and commit one flush');
  const buffered = metrics.gauge('lake_buffered_records', 'Records read and not yet committed');
  const lastSeq = metrics.gauge('lake_last_commit_seq', 'Sequence number of the last commit');

  mkdirSync(cfg.lakeDir, { recursive: true });
  const commits = readCommits(cfg.lakeDir);
  const removed = removeUncommitted(cfg.lakeDir, commits);
  if (removed.length > 0) log('removed uncommitted files', { count: removed.length, files: removed.slice(0, 20) });
  let last: LakeCommit | undefined = commits[commits.length - 1];
  lastSeq.set(last?.seq ?? 0);
  const position: Record<string, Record<string, string>> = structuredClone(last?.offsets ?? {});
  const topics = [cfg.outputTopic, cfg.inputTopic];
  await ensureTopics(
    cfg.bootstrap,
    topics.map((name) => ({ name, partitions: cfg.partitions })),
    cfg.replicationFactor,
  );

  const decoder = new EventDecoder(cfg.registryUrl ? new SchemaRegistryClient(cfg.registryUrl) : undefined);
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();

  /** Pending rows and the position after them; committed together. */
  let rows: Row[] = [];
  const pending: Record<string, Record<string, bigint>> = {};

  let bootstrap = await discoverBootstrap(cfg.bootstrap, `streamproof-lake-${cfg.instance}-bootstrap`);
  const sessionsTotal = metrics.counter(
    'lake_sessions_total',
    'Consumer sessions started (a new one after a failed one)',
  );
  interface Session {
    n: number;
    consumer: Consumer<Buffer, Buffer, Buffer, Buffer>;
    stream: Awaited<ReturnType<Consumer<Buffer, Buffer, Buffer, Buffer>['consume']>>;
    incoming: ReturnType<typeof bufferMessages<Msg>>;
    failed: unknown;
  }
  let sessions = 0;
  /** A consumer reading from where the sink stands: the committed position, past the buffered records. */
  const openSession = async (): Promise<Session> => {
    const n = ++sessions;
    if (n > 1) {
      bootstrap = [
        ...new Set([
          ...bootstrap,
          ...(await discoverBootstrap(rotate(bootstrap, n), `streamproof-lake-${cfg.instance}-bootstrap`)),
        ]),
      ];
    }
    const from: Record<string, Record<string, string>> = structuredClone(position);
    for (const [topic, parts] of Object.entries(pending)) {
      const t = from[topic] ?? {};
      for (const [p, o] of Object.entries(parts)) t[p] = String(o);
      from[topic] = t;
    }
    const offsets = Object.entries(from).flatMap(([topic, parts]) =>
      Object.entries(parts).map(([partition, offset]) => ({
        topic,
        partition: Number(partition),
        offset: BigInt(offset),
      })),
    );
    const consumer = guarded(
      new Consumer<Buffer, Buffer, Buffer, Buffer>({
        clientId: `streamproof-lake-${cfg.instance}`,
        groupId: `${cfg.groupId}-lake`,
        bootstrapBrokers: rotate(bootstrap, n),
        sessionTimeout: 10_000,
        rebalanceTimeout: 30_000,
        heartbeatInterval: 1_000,
        timeout: 30_000,
        retries: 20,
        retryDelay: 500,
        maxWaitTime: 200,
        isolationLevel: 1,
      }),
    );
    log(n === 1 ? 'resuming' : 'new session', { session: n, commit: last?.seq ?? 0, offsets: from });
    let stream: Session['stream'];
    try {
      stream = await within(
        consumer.consume({
          topics,
          mode: 'manual',
          offsets,
          fallbackMode: 'earliest',
          autocommit: false,
          isolationLevel: 1,
        }),
        60_000,
        'starting the consumer',
      );
    } catch (err) {
      await closeQuietly(consumer);
      throw err;
    }
    const s = { n, consumer, stream, failed: undefined } as unknown as Session;
    s.incoming = bufferMessages<Msg>(stream, cfg.flushRecords * 2, (err) => {
      if (s.failed !== undefined) return;
      s.failed = err ?? new Error('consumer stream failed');
      log('consumer stream failed; a new session starts', { session: n, ...errorFields(err) });
    });
    sessionsTotal.inc();
    return s;
  };
  const closeSession = async (s: Session) => {
    await within(s.stream.close(), 5_000, 'closing the stream').catch(() => {});
    await within(s.consumer.close(), 5_000, 'leaving the group').catch(() => closeQuietly(s.consumer));
  };
  // The first session is part of starting; a broker or coordinator down at that moment is ridden out for 60 s.
  let session: Session | undefined = await startWithin(openSession, 60_000, (err, attempt) =>
    log('first session failed to start; retrying', { attempt, ...errorFields(err) }),
  );

  const toRows = async (batch: Msg[]) => {
    for (const m of batch) {
      const topicPos = pending[m.topic] ?? {};
      const committedPos = position[m.topic]?.[m.partition];
      const prev = topicPos[m.partition] ?? (committedPos !== undefined ? BigInt(committedPos) : -1n);
      // A redelivered record (consumer reset after a rebalance) is already buffered or committed.
      if (m.offset < prev) continue;
      topicPos[m.partition] = m.offset + 1n;
      pending[m.topic] = topicPos;
      if (m.topic === cfg.outputTopic) {
        let r: Record<string, unknown>;
        try {
          r = JSON.parse(m.value?.toString() ?? '') as Record<string, unknown>;
        } catch {
          skipped.inc({ table: 'attributions' });
          continue;
        }
        rows.push({
          table: 'attributions',
          time: Number(r.conversion_time),
          cells: [
            ...LAKE_COLUMNS.attributions.slice(0, 14).map(([name]) => (r[name] ?? null) as Cell),
            m.partition,
            m.offset,
          ],
        });
      } else {
        const d = await decoder.decode(m.value);
        if (!d.ok) {
          skipped.inc({ table: 'events' });
          continue;
        }
        const e = d.event;
        rows.push({
          table: 'events',
          time: e.event_time,
          cells: [
            e.event_id,
            e.user_id,
            e.user_seq,
            e.type,
            e.channel,
            e.campaign,
            e.event_time,
            e.sent_at,
            e.revenue,
            e.currency,
            e.schema_version,
            e.device,
            e.consent.analytics,
            e.consent.ads,
            m.partition,
            m.offset,
          ],
        });
      }
    }
    buffered.set(rows.length);
  };

  const writeParquet = async (seq: number, table: LakeTable, date: string, hour: string, n: number, group: Row[]) => {
    const cols = LAKE_COLUMNS[table];
    await conn.run(`CREATE OR REPLACE TEMP TABLE staging (${cols.map(([c, t]) => `"${c}" ${t}`).join(', ')})`);
    const app = await conn.createAppender('staging');
    for (const row of group) {
      row.cells.forEach((v, i) => {
        const type = cols[i]![1];
        if (v === null || v === undefined) app.appendNull();
        else if (type === 'VARCHAR') app.appendVarchar(String(v));
        else if (type === 'DOUBLE') app.appendDouble(Number(v));
        else if (type === 'BIGINT') app.appendBigInt(BigInt(v));
        else if (type === 'INTEGER') app.appendInteger(Number(v));
        else app.appendBoolean(Boolean(v));
      });
      app.endRow();
    }
    app.flushSync();
    app.closeSync();
    const rel = `${table}/date=${date}/hour=${hour}/part-${String(seq).padStart(8, '0')}-${n}.parquet`;
    mkdirSync(join(cfg.lakeDir, table, `date=${date}`, `hour=${hour}`), { recursive: true });
    const abs = join(cfg.lakeDir, rel).replace(/'/g, "''");
    await conn.run(`COPY staging TO '${abs}' (FORMAT parquet, COMPRESSION zstd)`);
    return { path: rel, table, rows: group.length, date, hour } satisfies LakeFile;
  };

  const flush = async () => {
    const seq = (last?.seq ?? 0) + 1;
    const started = performance.now();
    const groups = new Map<string, Row[]>();
    for (const r of rows) {
      const { date, hour } = hourOf(r.time);
      const k = `${r.table}|${date}|${hour}`;
      const g = groups.get(k);
      if (g) g.push(r);
      else groups.set(k, [r]);
    }
    inProgress.set(1);
    try {
      const files: LakeFile[] = [];
      let n = 0;
      for (const [k, g] of [...groups].sort(([a], [b]) => (a < b ? -1 : 1))) {
        const [table, date, hour] = k.split('|') as [LakeTable, string, string];
        files.push(await writeParquet(seq, table, date, hour, n++, g));
      }
      fsyncFiles(cfg.lakeDir, files);
      pendingFiles.set(files.length);
      await hooks.beforeCommit?.();
      const next: Record<string, Record<string, string>> = structuredClone(position);
      for (const [topic, parts] of Object.entries(pending)) {
        const t = next[topic] ?? {};
        for (const [p, o] of Object.entries(parts)) t[p] = String(o);
        next[topic] = t;
      }
      const counts: Record<LakeTable, number> = { attributions: 0, events: 0 };
      for (const r of rows) counts[r.table] += 1;
      const commit: LakeCommit = {
        version: 1,
        seq,
        committed_at: new Date().toISOString(),
        files,
        offsets: next,
        rows: counts,
      };
      writeCommit(cfg.lakeDir, commit);
      last = commit;
      Object.assign(position, next);
      for (const k of Object.keys(pending)) delete pending[k];
      rows = [];
      buffered.set(0);
      commitsTotal.inc();
      filesTotal.inc({}, files.length);
      rowsTotal.inc({ table: 'attributions' }, counts.attributions);
      rowsTotal.inc({ table: 'events' }, counts.events);
      lastSeq.set(seq);
      commitLatency.observe((performance.now() - started) / 1000);
    } finally {
      inProgress.set(0);
      pendingFiles.set(0);
    }
  };

  let running = true;
  let serving = false;
  const stopController = new AbortController();
  let lastFlush = Date.now();
  let failedOpens = 0;
  const loop = (async () => {
    serving = true;
    while (running) {
      if (session === undefined) {
        try {
          session = await openSession();
          failedOpens = 0;
        } catch (err) {
          failedOpens++;
          log('session failed to start; retrying', { attempt: failedOpens, ...errorFields(err) });
          await pause(Math.min(5_000, 250 * 2 ** Math.min(failedOpens, 5)), stopController.signal);
          continue;
        }
      }
      const s = session;
      if (s.failed !== undefined) {
        // Take what it delivered before it failed (in offset order, so the new session resumes right after).
        await toRows(s.incoming.take()).catch((err) => log('buffering failed', errorFields(err)));
        session = undefined;
        await closeSession(s);
        await pause(500, stopController.signal);
        continue;
      }
      try {
        const batch = s.incoming.take();
        await toRows(batch);
        const due = Date.now() - lastFlush >= cfg.flushMs || rows.length >= cfg.flushRecords;
        const moved = Object.keys(pending).length > 0;
        if (due && moved) {
          await flush();
          lastFlush = Date.now();
        } else if (due) lastFlush = Date.now();
      } catch (err) {
        // The position did not move: the next flush writes new files under a new name and the old ones are debris.
        log('flush failed; will retry', errorFields(err));
      }
      await pause(50, stopController.signal);
    }
  })();

  const status = await startStatusServer({
    port: cfg.metricsPort,
    registry: metrics,
    healthy: () => serving && running,
  });
  log('ready', { metricsPort: status.port, lake: cfg.lakeDir, commit: last?.seq ?? 0 });
  return {
    metricsPort: status.port,
    async stop() {
      running = false;
      stopController.abort();
      await loop;
      const s = session;
      session = undefined;
      try {
        if (s) await toRows(s.incoming.take());
        if (Object.keys(pending).length > 0) await flush();
      } catch (err) {
        log('final flush failed', errorFields(err));
      }
      if (s) {
        await within(s.stream.close(), 5_000, 'closing the stream').catch(() => {});
        await closeQuietly(s.consumer);
      }
      conn.closeSync();
      db.closeSync();
      await status.close();
    },
  };
}
