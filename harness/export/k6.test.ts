import { describe, expect, it } from 'vitest';
import { eventProblems } from '../../generators/event.ts';
import { decodeJson } from '../../generators/schemas.ts';
import { type ScenarioInput, validateScenario } from '../runner/scenario.ts';
import { exportK6 } from './k6.ts';

const base: ScenarioInput = {
  name: 't',
  sut: { command: 'reference', contract: 'attribution' },
  load: { rate: 300, duration: '10s' },
};
const sc = (over: Partial<ScenarioInput>) => validateScenario({ ...base, ...over });

describe('exportK6', () => {
  it('one steady stage: constant-arrival-rate in requests per second (events/s / batch)', () => {
    const out = exportK6(sc({ load: { via: 'http', rate: 300, duration: '10s', batch: 50 } }));
    expect(out.scenario).toMatchObject({
      executor: 'constant-arrival-rate',
      rate: 6,
      timeUnit: '1s',
      duration: '10s',
    });
    expect(out.scenario.maxVUs).toBeGreaterThanOrEqual(out.scenario.preAllocatedVUs);
  });

  it('stages: ramping-arrival-rate, a jump is a 0 s stage, per minute when not whole per second', () => {
    const out = exportK6(
      sc({
        load: {
          stages: [
            { duration: '10s', from: 0, to: 1000 },
            { duration: '20s', rate: 1000 },
            { duration: '5s', rate: 3000 },
            { duration: '10s', rate: 130 },
          ],
        },
      }),
    );
    // 130 / 50 = 2.6 requests/s: per minute, 156.
    expect(out.scenario).toMatchObject({
      executor: 'ramping-arrival-rate',
      timeUnit: '1m',
      startRate: 0,
      stages: [
        { target: 1200, duration: '10s' },
        { target: 1200, duration: '20s' },
        { target: 3600, duration: '0s' },
        { target: 3600, duration: '5s' },
        { target: 156, duration: '0s' },
        { target: 156, duration: '10s' },
      ],
    });
    expect(out.script).toContain('requests per minute');
  });

  it('translates SLOs to k6 thresholds and lists what has no equivalent', () => {
    const out = exportK6(
      sc({
        slo: {
          ack_latency: ['p(99.9)<2s', 'avg<=250ms', 'count>10'],
          error_rate: ['rate<1%'],
          e2e_latency: ['p(95)<500ms'],
          throughput: ['avg>100/s'],
        },
      }),
    );
    expect(out.thresholds).toEqual({
      http_req_duration: ['p(99.9)<2000', 'avg<=250'],
      events_not_acked: ['rate<0.01'],
      dropped_iterations: ['count==0'],
    });
    const un = out.unmapped.join('\n');
    expect(un).toMatch(/ack_latency: "count>10"/);
    expect(un).toMatch(/e2e_latency: "p\(95\)<500ms"/);
    expect(un).toMatch(/throughput: "avg>100\/s"/);
    expect(un).toMatch(/exactly once/);
    for (const u of out.unmapped) expect(out.script).toContain(u);
  });

  it('a SUT without a collector needs a URL (named --url); load.target and --url are used as given', () => {
    const copy = { command: 'node my-copier.js', contract: 'copy' as const };
    expect(() => exportK6(sc({ sut: copy }))).toThrow(/--url: required/);
    expect(exportK6(sc({ sut: copy }), { url: 'http://127.0.0.1:9/x' }).url).toBe('http://127.0.0.1:9/x');
    const t = sc({ sut: copy, load: { via: 'http', rate: 10, duration: '1s', target: 'http://127.0.0.1:7/in' } });
    expect(exportK6(t).url).toBe('http://127.0.0.1:7/in');
  });

  it('the script sends batches of valid events (the collector rules), per-user ordered, with the token', async () => {
    for (const schemaVersion of [1, 3] as const) {
      const out = exportK6(
        sc({
          events: { users: 50, schemaVersion },
          load: { via: 'http', rate: 100, duration: '1s', batch: 20, token: 'tok' },
        }),
      );
      // Run the script's code in Node with the k6 modules stubbed: what would it POST?
      const posts: { url: string; body: string; headers: Record<string, string> }[] = [];
      const rates: boolean[] = [];
      const vu = { idInTest: 1 };
      (globalThis as Record<string, unknown>).__ENV = {};
      (globalThis as Record<string, unknown>).__k6 = {
        check: () => true,
        exec: { vu },
        http: {
          post: (url: string, body: string, params: { headers: Record<string, string> }) => {
            posts.push({ url, body, headers: params.headers });
            const n = body.trim().split('\n').length;
            return {
              status: 202,
              json: () => ({
                results: Array.from({ length: n }, (_, i) => ({ index: i, status: i === 0 ? 'rejected' : 'accepted' })),
              }),
            };
          },
        },
        Rate: class {
          add(v: boolean) {
            rates.push(v);
          }
        },
      };
      const src = out.script.replace(
        /^import[^\n]*\n(import[^\n]*\n)*/m,
        'const { check, exec, http, Rate } = globalThis.__k6;\n',
      );
      const mod = (await import(`data:text/javascript;base64,${Buffer.from(src).toString('base64')}`)) as {
        default: () => void;
        options: unknown;
      };
      for (const id of [1, 2, 1, 3]) {
        vu.idInTest = id;
        mod.default();
      }
      expect(posts).toHaveLength(4);
      expect(posts[0]!.headers.authorization).toBe('Bearer tok');
      expect(posts[0]!.headers['content-type']).toBe('application/x-ndjson');
      const last = new Map<string, number>();
      const owner = new Map<string, number>();
      for (const [k, p] of posts.entries()) {
        const lines = p.body.trim().split('\n');
        expect(lines).toHaveLength(20);
        for (const line of lines) {
          const e = decodeJson(line, 3);
          expect(eventProblems(e)).toEqual([]);
          expect(JSON.parse(line).schema_version).toBe(schemaVersion);
          expect('consent' in JSON.parse(line)).toBe(schemaVersion === 3);
          // a user belongs to one VU, and its user_seq increases
          const vuOf = [1, 2, 1, 3][k]!;
          expect(owner.get(e.user_id) ?? vuOf).toBe(vuOf);
          owner.set(e.user_id, vuOf);
          expect(e.user_seq).toBeGreaterThan(last.get(e.user_id) ?? -1);
          last.set(e.user_id, e.user_seq);
        }
      }
      // one events_not_acked sample per event: the first of each batch was rejected
      expect(rates).toHaveLength(80);
      expect(rates.filter((r) => r)).toHaveLength(4);
    }
  });

  it('a VU draws the same events on every run: its PRNG is seeded from the scenario seed and the VU id', async () => {
    const out = exportK6(sc({ events: { users: 50 }, load: { via: 'http', rate: 100, duration: '1s', batch: 20 } }));
    const draw = async (run: number, vuId: number, seed = out.script) => {
      const bodies: string[] = [];
      (globalThis as Record<string, unknown>).__ENV = {};
      (globalThis as Record<string, unknown>).__k6 = {
        check: () => true,
        exec: { vu: { idInTest: vuId } },
        http: {
          post: (_url: string, body: string) => {
            bodies.push(body);
            return { status: 202, json: () => ({ results: [] }) };
          },
        },
        Rate: class {
          add() {}
        },
      };
      // A fresh module instance per call, as k6 gives each VU its own.
      const src = `${seed.replace(/^import[^\n]*\n(import[^\n]*\n)*/m, 'const { check, exec, http, Rate } = globalThis.__k6;\n')}\n// run ${run}\n`;
      const mod = (await import(`data:text/javascript;base64,${Buffer.from(src).toString('base64')}`)) as {
        default: () => void;
      };
      mod.default();
      mod.default();
      // Times differ between runs; everything drawn must not.
      return bodies.flatMap((b) =>
        b
          .trim()
          .split('\n')
          .map((l) => {
            const { event_time: _t, sent_at: _s, event_id: _i, ...drawn } = JSON.parse(l);
            return drawn;
          }),
      );
    };
    const a = await draw(1, 1);
    expect(a).toHaveLength(40);
    expect(await draw(2, 1)).toEqual(a);
    expect(await draw(3, 2)).not.toEqual(a);
    expect(await draw(4, 1, out.script.replace(/const SEED = \d+;/, 'const SEED = 12345;'))).not.toEqual(a);
  });
});
