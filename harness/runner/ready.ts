/**
 * When is the system under test ready for load? One of these strategies (scenario `sut.ready`), each waited for up to
 * `sut.readyTimeout`:
 *
 *   "group"                 (default) its consumer group is Stable and its members' assignments cover every input
 *                           partition. Works for any client: classic groups (Java with any assignor or static
 *                           membership, librdkafka, kafkajs, @platformatic/kafka) and KIP-848 consumer groups
 *                           (harness/kafka/groups.ts).
 *   "none"                  do not wait.
 *   { "log": "<regex>" }    a line of every SUT instance's log matches.
 *   { "http": "<url>" }     the URL (127.0.0.1 or localhost) answers 2xx.
 *   { "tcp": 8080 }         127.0.0.1:8080 accepts a connection ({ "tcp": "host:port" } names the host).
 *
 * An instance that exits before it is ready fails the wait at once. Every failure says what was waited for, what was
 * last seen, and ends with the last lines of each instance's log.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeGroup, type GroupDescription, ownedPartitions } from '../kafka/groups.ts';
import { StreamproofError } from '../util/errors.ts';

export type ReadyStrategy = 'group' | 'none' | { log: string } | { http: string } | { tcp: number | string };

/** What the wait needs of a SUT instance (SutInstance has it). */
export interface ReadyInstance {
  readonly name?: string;
  readonly logFile: string;
  running(): boolean;
  readonly unexpectedExits?: readonly { code: number | null; signal: string | null }[];
}

export interface ReadyContext {
  /** The harness's direct bootstrap (group strategy). */
  bootstrap: string | readonly string[];
  groupId: string;
  topic: string;
  partitions: number;
  instances: readonly ReadyInstance[];
  timeoutMs: number;
  /** Between checks; default 250 ms. */
  intervalMs?: number;
  /** Log lines shown per instance in a failure; default 20. */
  tailLines?: number;
}

interface Check {
  /** What is waited for, for messages. */
  readonly what: string;
  /** True when ready; otherwise `status()` says what was seen. Must not throw. */
  probe(timeoutMs: number): Promise<boolean>;
  status(): string;
}

/**
 * Wait until the SUT is ready by `strategy`. Throws StreamproofError TIMEOUT when the time is up, or
 * STACK_START_FAILED as soon as an instance exits first; both messages end with each instance's log tail.
 */
export async function waitReady(strategy: ReadyStrategy, ctx: ReadyContext): Promise<void> {
  if (strategy === 'none') return;
  const check = makeCheck(strategy, ctx);
  const started = Date.now();
  const deadline = started + ctx.timeoutMs;
  const names = ctx.instances.map((inst, i) => inst.name ?? `sut:${i}`);
  for (;;) {
    const dead = ctx.instances.findIndex((inst) => !inst.running());
    if (dead >= 0) {
      const inst = ctx.instances[dead]!;
      const exit = inst.unexpectedExits?.at(-1);
      const how = exit ? ` (${exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`})` : '';
      throw new StreamproofError(
        'STACK_START_FAILED',
        `${names[dead]} exited${how} before it was ready, after ${Date.now() - started} ms of waiting for ${check.what}; ` +
          `last seen: ${check.status()}${logTails(ctx.instances, names, ctx.tailLines)}`,
        { strategy },
      );
    }
    if (await check.probe(Math.max(200, Math.min(5000, deadline - Date.now())))) return;
    const now = Date.now();
    if (now >= deadline) {
      throw new StreamproofError(
        'TIMEOUT',
        `SUT not ready after ${ctx.timeoutMs} ms: waited for ${check.what}; last seen: ${check.status()}` +
          logTails(ctx.instances, names, ctx.tailLines),
        { strategy },
      );
    }
    await sleep(Math.min(ctx.intervalMs ?? 250, deadline - now));
  }
}

/** Human words for a strategy, e.g. for the run's timeline. */
export function describeStrategy(strategy: ReadyStrategy, ctx: Omit<ReadyContext, 'timeoutMs'>): string {
  return strategy === 'none' ? 'nothing (sut.ready "none")' : makeCheck(strategy, { ...ctx, timeoutMs: 0 }).what;
}

function makeCheck(strategy: Exclude<ReadyStrategy, 'none'>, ctx: ReadyContext): Check {
  if (strategy === 'group') return groupCheck(ctx);
  if ('log' in strategy) return logCheck(new RegExp(strategy.log), ctx.instances);
  if ('http' in strategy) return httpCheck(strategy.http);
  return tcpCheck(parseTcpTarget(strategy.tcp));
}

// --- group ---

/** Readiness of a group now: ready, and what was seen (for messages). */
export async function groupReadiness(
  bootstrap: string | readonly string[],
  groupId: string,
  topic: string,
  partitions: number,
  timeoutMs = 5000,
): Promise<{ ready: boolean; seen: string; group: GroupDescription | undefined }> {
  const group = await describeGroup(bootstrap, groupId, { timeoutMs, clientId: 'streamproof-ready' });
  if (!group) return { ready: false, seen: `no group ${groupId} on its coordinator yet`, group };
  const owned = ownedPartitions(group, topic);
  const ownedSet = new Set(owned);
  const missing = Array.from({ length: partitions }, (_, p) => p).filter((p) => !ownedSet.has(p));
  const stable = group.state.toLowerCase() === 'stable';
  const unreadable = group.members.filter((m) => m.assignment === undefined).length;
  const parts = [
    `group ${groupId} (${group.type === 'unknown' ? `type ${group.brokerType}` : group.type}` +
      `${group.protocol ? `, ${group.protocol}` : ''}) in state ${group.state}`,
    `${group.members.length} member(s)`,
    `owning ${owned.length} of ${partitions} partitions of ${topic}` +
      (missing.length > 0 && missing.length < partitions ? ` (missing ${ranges(missing)})` : ''),
  ];
  if (unreadable > 0) {
    parts.push(
      `${unreadable} member assignment(s) not readable as a consumer assignment (protocol type "${group.protocolType}"); ` +
        'a SUT that is not a Kafka consumer group needs another sut.ready strategy (log, http, tcp)',
    );
  }
  if (group.type === 'unknown')
    parts.push(`groups of type ${group.brokerType} are not described; use another sut.ready strategy`);
  return { ready: stable && missing.length === 0, seen: parts.join(', '), group };
}

function groupCheck(ctx: ReadyContext): Check {
  let seen = 'nothing yet';
  return {
    what: `the SUT's consumer group ${ctx.groupId} to be Stable and own all ${ctx.partitions} partitions of ${ctx.topic}`,
    async probe(timeoutMs) {
      try {
        const r = await groupReadiness(ctx.bootstrap, ctx.groupId, ctx.topic, ctx.partitions, timeoutMs);
        seen = r.seen;
        return r.ready;
      } catch (err) {
        seen = `describing group ${ctx.groupId} failed: ${(err as Error)?.message ?? String(err)}`;
        return false;
      }
    },
    status: () => seen,
  };
}

/** "0-2, 5" for [0, 1, 2, 5]. */
function ranges(sorted: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    out.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return out.join(', ');
}

// --- log ---

function logCheck(re: RegExp, instances: readonly ReadyInstance[]): Check {
  const pattern = new RegExp(re.source, re.flags.replace(/[gy]/g, ''));
  const scanners = instances.map((inst) => new LogScanner(inst.logFile, pattern));
  const names = instances.map((inst, i) => inst.name ?? `sut:${i}`);
  return {
    what: `a line matching /${pattern.source}/ in the log of every SUT instance (${instances.length})`,
    async probe() {
      let all = true;
      for (const s of scanners) if (!s.scan()) all = false;
      return all;
    },
    status() {
      const yes = names.filter((_, i) => scanners[i]!.matched);
      const no = names.filter((_, i) => !scanners[i]!.matched);
      return `${yes.length ? `matched in ${yes.join(', ')}` : 'matched in none'}${no.length ? `; not (yet) in ${no.join(', ')}` : ''}`;
    },
  };
}

/** Reads a growing log file from where it left off and remembers whether a line matched. */
class LogScanner {
  matched = false;
  private offset = 0;
  private carry = '';
  private decoder = new StringDecoder('utf8');
  constructor(
    private readonly file: string,
    private readonly pattern: RegExp,
  ) {}

  scan(): boolean {
    if (this.matched) return true;
    let size: number;
    try {
      size = statSync(this.file).size;
    } catch {
      return false; // no log yet
    }
    if (size < this.offset) {
      // Truncated or replaced: read it again from the start.
      this.offset = 0;
      this.carry = '';
      this.decoder = new StringDecoder('utf8');
    }
    if (size > this.offset) {
      const fd = openSync(this.file, 'r');
      try {
        const chunk = Buffer.alloc(Math.min(size - this.offset, 1 << 20));
        const n = readSync(fd, chunk, 0, chunk.length, this.offset);
        this.offset += n;
        this.carry += this.decoder.write(chunk.subarray(0, n));
      } finally {
        closeSync(fd);
      }
    }
    const lines = this.carry.split(/\r?\n/);
    // The last piece may be a line still being written: test it, but keep it for the next read.
    this.carry = lines[lines.length - 1]!.slice(-65_536);
    this.matched = lines.some((l) => this.pattern.test(l));
    return this.matched;
  }
}

// --- http ---

function httpCheck(url: string): Check {
  let seen = 'no answer yet';
  return {
    what: `${url} to answer 2xx`,
    async probe(timeoutMs) {
      try {
        const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(Math.min(timeoutMs, 2000)) });
        await res.arrayBuffer().catch(() => undefined);
        seen = `last answer ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
        return res.status >= 200 && res.status < 300;
      } catch (err) {
        seen = `last attempt failed: ${errorText(err)}`;
        return false;
      }
    },
    status: () => seen,
  };
}

// --- tcp ---

/** `8080` -> 127.0.0.1:8080; "localhost:8080", "[::1]:8080", "127.0.0.1:8080" as written. */
export function parseTcpTarget(target: number | string): { host: string; port: number } {
  if (typeof target === 'number') return { host: '127.0.0.1', port: target };
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(target);
  if (!m) return { host: '127.0.0.1', port: Number(target) };
  return { host: m[1] ?? m[2]!, port: Number(m[3]) };
}

function tcpCheck(target: { host: string; port: number }): Check {
  let seen = 'no attempt yet';
  const addr = target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
  return {
    what: `${addr} to accept a TCP connection`,
    probe(timeoutMs) {
      return new Promise<boolean>((resolve) => {
        const socket = connect({ host: target.host, port: target.port });
        const done = (ok: boolean, why: string) => {
          seen = why;
          socket.destroy();
          resolve(ok);
        };
        socket.setTimeout(Math.min(timeoutMs, 2000), () => done(false, 'last attempt timed out'));
        socket.once('connect', () => done(true, 'connected'));
        socket.once('error', (err) => done(false, `last attempt failed: ${errorText(err)}`));
      });
    },
    status: () => seen,
  };
}

function errorText(err: unknown): string {
  const e = err as { message?: string; code?: string; cause?: { code?: string; message?: string } };
  const code = e?.cause?.code ?? e?.code;
  const msg = e?.cause?.message ?? e?.message ?? String(err);
  return code && !msg.includes(code) ? `${code} ${msg}` : msg;
}

// --- log tails ---

function logTails(instances: readonly ReadyInstance[], names: readonly string[], lines = 20): string {
  return instances
    .map((inst, i) => `\n--- last ${lines} lines of ${names[i]} (${inst.logFile}) ---\n${tail(inst.logFile, lines)}`)
    .join('');
}

/** The last `lines` lines of a file, reading at most its last 256 KiB. */
function tail(file: string, lines: number): string {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const size = statSync(file).size;
    const len = Math.min(size, 256 * 1024);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    const text = buf.toString('utf8').trimEnd();
    return text ? text.split(/\r?\n/).slice(-lines).join('\n') : '(empty log)';
  } catch {
    return '(no log)';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
