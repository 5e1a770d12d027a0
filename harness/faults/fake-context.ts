/**
 * Test doubles for faults: an in-memory Toxiproxy (proxies, toxics, enable/disable, reset, 404s as the real client
 * reports them), fake processes, a FaultContext over them, and a virtual clock for schedules. Used by the unit
 * tests here and by anything that unit-tests a runner around faults; nothing in production imports it.
 */

import { StreamproofError } from '../util/errors.ts';
import type { FaultContext, ProcessTarget, ToxicBody, ToxiproxyClient, ToxiproxyProxy } from './context.ts';
import { FakeRoles } from './fake-roles.ts';

export interface FakeProxyState {
  enabled: boolean;
  toxics: Map<string, ToxicBody>;
}

function notFound(): Error {
  return new Error('Request failed with status code 404');
}

export class FakeToxiproxy implements ToxiproxyClient {
  readonly proxies = new Map<string, FakeProxyState>();
  /** Every call, in order, e.g. `add broker-1 sp-..-up`, `disable broker-2`, `reset`. */
  readonly log: string[] = [];
  /** Make the next calls whose log line matches fail (once each). */
  readonly failures: RegExp[] = [];

  constructor(names: string[]) {
    for (const n of names) this.proxies.set(n, { enabled: true, toxics: new Map() });
  }

  private op(line: string): void {
    const i = this.failures.findIndex((re) => re.test(line));
    if (i >= 0) {
      this.failures.splice(i, 1);
      throw new Error(`injected failure: ${line}`);
    }
    this.log.push(line);
  }

  async get(name: string): Promise<ToxiproxyProxy> {
    const state = this.proxies.get(name);
    if (!state) throw notFound();
    const self = this;
    return {
      name,
      listen: `127.0.0.1:1${name.length}`,
      upstream: '127.0.0.1:2',
      enabled: state.enabled,
      async update(body) {
        const s = self.proxies.get(name);
        if (!s) throw notFound();
        self.op(`${body.enabled ? 'enable' : 'disable'} ${name}`);
        s.enabled = body.enabled;
        return undefined;
      },
      async addToxic(body) {
        const s = self.proxies.get(name);
        if (!s) throw notFound();
        if (s.toxics.has(body.name)) throw new Error('Request failed with status code 409');
        self.op(`add ${name} ${body.name}`);
        s.toxics.set(body.name, body);
        return undefined;
      },
      async getToxic(toxic) {
        const s = self.proxies.get(name);
        if (!s?.toxics.has(toxic)) throw notFound();
        return {
          async remove() {
            const now = self.proxies.get(name);
            if (!now?.toxics.has(toxic)) throw notFound();
            self.op(`remove ${name} ${toxic}`);
            now.toxics.delete(toxic);
          },
        };
      },
    };
  }

  async reset(): Promise<void> {
    this.op('reset');
    for (const s of this.proxies.values()) {
      s.enabled = true;
      s.toxics.clear();
    }
  }

  /** True when every proxy is enabled and has no toxic. */
  clean(): boolean {
    return [...this.proxies.values()].every((s) => s.enabled && s.toxics.size === 0);
  }
}

export class FakeProcess implements ProcessTarget {
  state: 'running' | 'paused' | 'dead' = 'running';
  /** Make the next start() reject. */
  failStart = false;

  constructor(
    readonly name: string,
    private readonly log: string[],
  ) {}

  running(): boolean {
    return this.state !== 'dead';
  }
  async kill(): Promise<void> {
    this.log.push(`kill ${this.name}`);
    this.state = 'dead';
  }
  pause(): void {
    this.log.push(`pause ${this.name}`);
    if (this.state === 'running') this.state = 'paused';
  }
  resume(): void {
    this.log.push(`resume ${this.name}`);
    if (this.state === 'paused') this.state = 'running';
  }
  async start(): Promise<void> {
    if (this.failStart) {
      this.failStart = false;
      throw new Error(`${this.name} did not start`);
    }
    this.log.push(`start ${this.name}`);
    this.state = 'running';
  }
  async stop(): Promise<void> {
    this.log.push(`stop ${this.name}`);
    this.state = 'dead';
  }
}

export interface FakeContext extends FaultContext {
  /**
   * What `underReplicated()` answers: each call takes the first entry (the last one stays); an Error rejects.
   * Default: in sync while every broker runs, else one partition per broker that is down.
   */
  readonly replication: (string[] | Error)[];
  readonly toxiproxy: FakeToxiproxy;
  readonly brokers: FakeProcess[];
  readonly sut: FakeProcess[];
  /** The SUT's components by name (`lake` is the process `sut:lake`). */
  readonly components: Record<string, FakeProcess>;
  /** Toxiproxy calls and process signals, in order (and the fake roles' calls: `controller`, `reorder t/0 2,1,3`). */
  readonly log: string[];
  /** The cluster's roles (role targets, `leader-move`): `events/0` led by 1 of 1,2,3; controller 1; coordinators 2, 3. */
  readonly roles: FakeRoles;
}

export function fakeContext(opts: { brokers?: number; sut?: number; components?: string[] } = {}): FakeContext {
  const ids = Array.from({ length: opts.brokers ?? 3 }, (_, i) => i + 1);
  const toxiproxy = new FakeToxiproxy(ids.map((id) => `broker-${id}`));
  const log = toxiproxy.log;
  const brokers = ids.map((id) => new FakeProcess(`broker:${id}`, log));
  const sut = Array.from({ length: opts.sut ?? 2 }, (_, i) => new FakeProcess(`sut:${i}`, log));
  const components = Object.fromEntries((opts.components ?? []).map((c) => [c, new FakeProcess(`sut:${c}`, log)]));
  const replication: (string[] | Error)[] = [];
  return {
    toxiproxy,
    brokerIds: ids,
    replication,
    roles: new FakeRoles(log),
    async underReplicated() {
      const answer = replication.length > 1 ? replication.shift()! : replication[0];
      if (answer instanceof Error) throw answer;
      if (answer !== undefined) return answer;
      return brokers.filter((b) => !b.running()).map((b) => `t/${b.name.slice('broker:'.length)} (isr 2 of 3)`);
    },
    brokers,
    sut,
    components,
    log,
    sutComponents: () => Object.keys(components),
    processes(target) {
      if (target.role === 'broker') {
        const b = brokers[target.id - 1];
        if (!b) throw StreamproofError.at('FAULT_UNKNOWN_TARGET', `broker:${target.id}: no such broker`);
        return [b];
      }
      if ('component' in target) {
        const c = Object.hasOwn(components, target.component) ? components[target.component] : undefined;
        if (!c) throw StreamproofError.at('FAULT_UNKNOWN_TARGET', `sut:${target.component}: no such SUT component`);
        return [c];
      }
      if (target.instance === 'all') return [...sut];
      const s = sut[target.instance];
      if (!s) throw StreamproofError.at('FAULT_UNKNOWN_TARGET', `sut:${target.instance}: no such SUT instance`);
      return [s];
    },
  };
}

/**
 * Virtual time for schedules: `now()` and `sleep()` to pass to runSchedule, and `drive()` to run a promise to its
 * end by jumping from one due timer to the next (no real waiting).
 */
export class FakeClock {
  private timers: { due: number; resolve: () => void }[] = [];

  constructor(public time = 1_000_000) {}

  readonly now = (): number => this.time;

  readonly sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
    new Promise<void>((resolve) => {
      const onAbort = () => {
        this.timers = this.timers.filter((x) => x !== t);
        resolve();
      };
      const t = {
        due: this.time + ms,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      this.timers.push(t);
      signal?.addEventListener('abort', onAbort, { once: true });
    });

  /** Let every pending promise callback run. */
  async settle(): Promise<void> {
    for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
  }

  /** Advances to `t`, firing every timer due on the way, in order. */
  async advanceTo(t: number): Promise<void> {
    await this.settle();
    for (;;) {
      this.timers.sort((a, b) => a.due - b.due);
      const next = this.timers[0];
      if (!next || next.due > t) break;
      this.timers.shift();
      this.time = Math.max(this.time, next.due);
      next.resolve();
      await this.settle();
    }
    this.time = Math.max(this.time, t);
    await this.settle();
  }

  /** Runs `p` to its end, jumping through timers; throws if it waits with no timer left (e.g. for an abort). */
  async drive<T>(p: Promise<T>): Promise<T> {
    let done = false;
    const watched = p.finally(() => {
      done = true;
    });
    // Handled when returned; until then a rejection must not count as unhandled.
    watched.catch(() => {});
    await this.settle();
    while (!done) {
      this.timers.sort((a, b) => a.due - b.due);
      const next = this.timers.shift();
      if (!next) throw new Error('FakeClock.drive: the promise waits, but no timer is pending');
      this.time = Math.max(this.time, next.due);
      next.resolve();
      await this.settle();
    }
    return watched;
  }
}
