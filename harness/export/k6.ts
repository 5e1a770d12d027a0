/**
 * k6 export: a scenario's load as a k6 script (an ES module, plain JS that type-checks against @types/k6) that POSTs
 * NDJSON batches to the collector, for people who run k6. streamproof neither ships nor runs k6 (it is AGPL).
 *
 * What maps (docs/k6.md has the table):
 * - load: one steady stage -> the `constant-arrival-rate` executor; several stages or a ramp ->
 *   `ramping-arrival-rate` (a jump between stages is a 0 s stage). Rates are requests per time unit: events/s
 *   divided by the batch size (`load.batch`, default 50), per second when whole, else per minute (rounded; the
 *   script says so).
 * - SLOs: `ack_latency` (response latency) -> `http_req_duration` with the same aggregation, in ms;
 *   `error_rate` -> `events_not_acked`, a Rate the script adds one sample per event to (not accepted in a 2xx
 *   answer = not acked), as streamproof counts it. `e2e_latency`, `throughput` (output records) and every
 *   invariant (exactly-once, order, schema, the attribution model) need the output topic: no k6 equivalent, listed
 *   in a comment. k6 measures latency from when a request is sent, not from its intended time: when it runs out of
 *   VUs it drops iterations (`dropped_iterations`, thresholded at 0) where streamproof would count the queueing.
 * - events: shaped like the scenario's schema version (v1..v3 fields), drawn per VU from a small PRNG seeded with
 *   the scenario's seed and the VU id, so a k6 run replays its events (not the seed's stream of `streamproof run`: that
 *   needs streamproof's generator); each VU owns a slice of the users and numbers their user_seq, so per-user order
 *   holds across the VUs (one request per VU at a time).
 */
import type { SloAggregation, SloMetric, Threshold } from '../checkers/threshold.ts';
import { parseThresholds } from '../checkers/threshold.ts';
import type { Scenario } from '../runner/scenario.ts';
import { StreamproofError } from '../util/errors.ts';

export interface K6ExportOptions {
  /** The ingest URL baked in as the default (the script reads `STREAMPROOF_COLLECTOR_URL` first). */
  url?: string;
  /** For the header comment: how the script was made. */
  source?: string;
}

export interface K6Scenario {
  executor: 'constant-arrival-rate' | 'ramping-arrival-rate';
  timeUnit: '1s' | '1m';
  rate?: number;
  duration?: string;
  startRate?: number;
  stages?: { target: number; duration: string }[];
  preAllocatedVUs: number;
  maxVUs: number;
}

export interface K6Export {
  script: string;
  scenario: K6Scenario;
  thresholds: Record<string, string[]>;
  /** SLOs (and invariants) with no k6 equivalent, with why. */
  unmapped: string[];
  url: string;
  batch: number;
}

/** Collector port when nothing else is known (reference-pipeline/collector/main.ts). */
export const DEFAULT_COLLECTOR_URL = 'http://127.0.0.1:8080/v1/events';

export function exportK6(sc: Scenario, opts: K6ExportOptions = {}): K6Export {
  const batch = sc.load.http?.batch ?? 50;
  const url = opts.url ?? sc.load.http?.target ?? (sc.sut.command === 'reference' ? DEFAULT_COLLECTOR_URL : undefined);
  if (url === undefined) {
    throw new StreamproofError(
      'USAGE',
      `--url: required for scenario "${sc.name}": its SUT (${JSON.stringify(sc.sut.command)}) has no collector (sut.command is not "reference" and load.target is not set)`,
    );
  }
  const scenario = executor(sc, batch);
  const { thresholds, unmapped } = translateThresholds(sc);
  const token = sc.load.http?.token;
  const script = render({ sc, opts, url, batch, scenario, thresholds, unmapped, token });
  return { script, scenario, thresholds, unmapped, url, batch };
}

function seconds(ms: number): string {
  return `${Math.round(ms) / 1000}s`;
}

function executor(sc: Scenario, batch: number): K6Scenario {
  const stages = sc.load.stages;
  const all = stages.flatMap((s) => [s.from / batch, s.to / batch]);
  const perSecond = all.every((r) => Number.isInteger(r));
  const timeUnit = perSecond ? '1s' : '1m';
  const per = (eventsPerSec: number) =>
    perSecond ? eventsPerSec / batch : Math.max(eventsPerSec > 0 ? 1 : 0, Math.round((eventsPerSec * 60) / batch));
  const peak = Math.max(...all);
  // VUs: one request each at a time; enough for the peak request rate at ~1 s per request, so k6 rarely drops.
  const maxVUs = Math.max(2, Math.ceil(peak * 2));
  const preAllocatedVUs = Math.max(1, Math.min(maxVUs, Math.ceil(peak / 2)));
  if (stages.length === 1 && stages[0]!.from === stages[0]!.to) {
    return {
      executor: 'constant-arrival-rate',
      timeUnit,
      rate: per(stages[0]!.from),
      duration: seconds(stages[0]!.durationMs),
      preAllocatedVUs,
      maxVUs,
    };
  }
  const out: { target: number; duration: string }[] = [];
  let current = per(stages[0]!.from);
  for (const s of stages) {
    // k6 ramps linearly from the previous target over each stage: a jump is a 0 s stage to the new start rate.
    if (per(s.from) !== current) out.push({ target: per(s.from), duration: '0s' });
    out.push({ target: per(s.to), duration: seconds(s.durationMs) });
    current = per(s.to);
  }
  return {
    executor: 'ramping-arrival-rate',
    timeUnit,
    startRate: per(stages[0]!.from),
    stages: out,
    preAllocatedVUs,
    maxVUs,
  };
}

const NO_EQUIVALENT: Record<Exclude<SloMetric, 'ack_latency' | 'error_rate'>, string> = {
  e2e_latency: 'needs the time each record reached the output topic (k6 sees only the HTTP side)',
  lake_latency: 'needs the time each row became visible in the lake (k6 sees only the HTTP side)',
  throughput: 'counts output records per second (k6 sees only requests it sent)',
};

function k6Aggregation(t: Threshold): string | undefined {
  const a: SloAggregation = t.aggregation;
  if (a === 'p') return `p(${t.percentile})`;
  if (a === 'avg' || a === 'min' || a === 'max' || a === 'med') return a;
  return undefined;
}

function translateThresholds(sc: Scenario): { thresholds: Record<string, string[]>; unmapped: string[] } {
  const thresholds: Record<string, string[]> = {};
  const unmapped: string[] = [];
  const add = (metric: string, expr: string) => {
    thresholds[metric] ??= [];
    thresholds[metric].push(expr);
  };
  for (const t of parseThresholds(sc.slo, 'slo')) {
    const was = `${t.metric}: "${t.expression}"`;
    if (t.metric === 'ack_latency') {
      const agg = k6Aggregation(t);
      if (agg === undefined) unmapped.push(`${was}: http_req_duration is a trend; k6 has no count threshold on it`);
      else add('http_req_duration', `${agg}${t.operator}${t.limit}`);
    } else if (t.metric === 'error_rate') {
      add('events_not_acked', `rate${t.operator}${t.limit}`);
    } else {
      unmapped.push(`${was}: ${NO_EQUIVALENT[t.metric]}`);
    }
  }
  // The open model held: k6 drops iterations when it runs out of VUs, where streamproof counts their queueing.
  add('dropped_iterations', 'count==0');
  unmapped.push(
    `invariants (${sc.sut.contract === 'attribution' ? 'attributions equal the model' : 'every input record copied'}, exactly once, per-user order, schema): need the output topic; run \`streamproof run\` for them`,
  );
  return { thresholds, unmapped };
}

function js(v: unknown): string {
  return JSON.stringify(v);
}

function render(x: {
  sc: Scenario;
  opts: K6ExportOptions;
  url: string;
  batch: number;
  scenario: K6Scenario;
  thresholds: Record<string, string[]>;
  unmapped: string[];
  token: string | undefined;
}): string {
  const { sc, scenario, thresholds } = x;
  const v = sc.events.schemaVersion;
  const scenarioLines = Object.entries(scenario)
    .map(([k, val]) => `      ${k}: ${js(val)},`)
    .join('\n');
  const thresholdLines = Object.entries(thresholds)
    .map(([k, exprs]) => `    ${k}: ${js(exprs)},`)
    .join('\n');
  const unmapped = x.unmapped.map((u) => ` *   - ${u.replaceAll('*/', '* /')}`).join('\n');
  const rounding =
    scenario.timeUnit === '1m'
      ? `\n * Rates are requests per minute (events/s x 60 / ${x.batch}, rounded): the scenario's rates are not whole requests per second.`
      : '';
  return `/**
 * k6 script exported from streamproof scenario "${sc.name}"${x.opts.source ? ` (${x.opts.source})` : ''}.
 * Drives the collector's HTTP ingest: NDJSON batches of ${x.batch} events (schema v${v}) at the scenario's arrival rate.${rounding}
 *
 *   k6 run script.js                                  # collector at ${x.url}
 *   STREAMPROOF_COLLECTOR_URL=http://127.0.0.1:8080/v1/events STREAMPROOF_COLLECTOR_TOKEN=... k6 run script.js
 *
 * Thresholds come from the scenario's SLOs. No k6 equivalent (judge these with \`streamproof run\`):
${unmapped}
 * k6 times a request from when it is sent; streamproof from its intended time (coordinated omission corrected).
 */
import { check } from 'k6';
import exec from 'k6/execution';
import http from 'k6/http';
import { Rate } from 'k6/metrics';

const URL = __ENV.STREAMPROOF_COLLECTOR_URL || ${js(x.url)};
const TOKEN = __ENV.STREAMPROOF_COLLECTOR_TOKEN || ${js(x.token ?? '')};
const BATCH = ${x.batch};
const USERS = ${sc.events.users};
const MAX_VUS = ${scenario.maxVUs};
const SCHEMA_VERSION = ${v};
const SEED = ${sc.events.seed >>> 0};

/** One sample per event: true when the collector did not accept it (rejected, refused, or no 2xx answer). */
const eventsNotAcked = new Rate('events_not_acked');

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: {
    ingest: {
${scenarioLines}
    },
  },
  thresholds: {
${thresholdLines}
  },
};

const TYPES = ['impression', 'click', 'conversion'];
const TYPE_WEIGHTS = [80, 17, 3];
const CHANNELS = ['search', 'social', 'display', 'email', 'affiliate', 'direct'];
const CURRENCIES = ['USD', 'EUR', 'GBP', 'CAD', 'AUD'];
const DEVICES = ['desktop', 'mobile', 'tablet', 'unknown'];

/** user index -> next user_seq, for this VU's users (index % MAX_VUS === VU - 1): one VU per user keeps the order. */
/** @type {Map<number, number>} */
const userSeq = new Map();
let seq = 0;

/** This VU's xorshift32 state, seeded from the scenario's seed and the VU id: the same run replays its events. */
let rngState = 0;
function random() {
  if (rngState === 0) rngState = (SEED ^ Math.imul(exec.vu.idInTest, 0x9e3779b1)) >>> 0 || 1;
  rngState ^= rngState << 13;
  rngState >>>= 0;
  rngState ^= rngState >>> 17;
  rngState ^= rngState << 5;
  rngState >>>= 0;
  return rngState / 4294967296;
}

/** @param {readonly string[]} xs */
function pick(xs) {
  return xs[Math.floor(random() * xs.length)] || xs[0] || '';
}

function eventType() {
  let r = random() * 100;
  for (let i = 0; i < TYPES.length; i++) {
    r -= TYPE_WEIGHTS[i] || 0;
    if (r < 0) return TYPES[i] || 'impression';
  }
  return 'impression';
}

function nextEvent() {
  const vu = exec.vu.idInTest;
  const slots = Math.max(1, Math.ceil(USERS / MAX_VUS));
  const user = (vu - 1) % MAX_VUS + MAX_VUS * Math.floor(random() * slots);
  const userSeqNow = userSeq.get(user) || 0;
  userSeq.set(user, userSeqNow + 1);
  const type = eventType();
  const now = Date.now();
  /** @type {Record<string, unknown>} */
  const e = {
    event_id: \`\${vu}-\${seq++}\`,
    user_id: \`u\${String(user).padStart(7, '0')}\`,
    user_seq: userSeqNow,
    type,
    channel: pick(CHANNELS),
    campaign: \`cmp-\${String(Math.floor(random() * 50)).padStart(4, '0')}\`,
    event_time: now - Math.floor(random() * 5000),
    sent_at: now,
    revenue: type === 'conversion' ? Math.round(Math.exp(Math.log(40) + 1.1 * (random() * 2 - 1)) * 100) / 100 : null,
    currency: type === 'conversion' ? pick(CURRENCIES) : null,
    schema_version: SCHEMA_VERSION,
  };
  if (SCHEMA_VERSION >= 2) e.device = pick(DEVICES);
  if (SCHEMA_VERSION >= 3) e.consent = { analytics: random() < 0.9, ads: random() < 0.8 };
  return e;
}

export default function () {
  const lines = [];
  for (let i = 0; i < BATCH; i++) lines.push(JSON.stringify(nextEvent()));
  /** @type {Record<string, string>} */
  const headers = { 'content-type': 'application/x-ndjson' };
  if (TOKEN) headers.authorization = \`Bearer \${TOKEN}\`;
  const res = http.post(URL, \`\${lines.join('\\n')}\\n\`, { headers, timeout: '${Math.round(sc.load.acksTimeoutMs / 1000)}s' });
  check(res, { 'status is 202': (r) => r.status === 202 });
  let accepted = 0;
  if (res.status >= 200 && res.status < 300) {
    try {
      const body = /** @type {{ results?: { status?: string }[] }} */ (res.json());
      accepted = Array.isArray(body.results) ? body.results.filter((r) => r.status === 'accepted').length : BATCH;
    } catch (_) {
      accepted = BATCH;
    }
  }
  for (let i = 0; i < BATCH; i++) eventsNotAcked.add(i >= accepted);
}
`;
}
