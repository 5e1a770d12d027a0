/**
 * SLO threshold expressions, k6-style: `<aggregation> <operator> <value>[unit]` over a named metric.
 *
 *   e2e_latency: ['p(95)<500ms', 'p(99.9)<=2s', 'max<1s']
 *   throughput:  ['avg>40000/s']
 *   error_rate:  ['rate<0.01']
 *
 * Metrics and the aggregations they accept:
 * - `e2e_latency`, `ack_latency` (trend, ms): `avg`, `min`, `max`, `med`, `p(N)` with 0 <= N <= 100, and `count`.
 *   Values take a time unit: `us` / `µs`, `ms` (the default, as in k6), `s`, `m`.
 * - `lake_latency` (trend, ms, same aggregations): end-to-end latency until a row is visible in the lake, judged by
 *   `lakeSlo` (lake-slo.ts) over the lake's history; the main `slo` checker skips it.
 * - `throughput` (output records per second): `avg`, `min`, `max`, `med`, `p(N)` over the per-second counts of
 *   the steady window, with an optional `/s`; `count` = total output records.
 * - `error_rate` (sends not acked / sends offered): `rate`, as a fraction or with `%`.
 * Operators: `<`, `<=`, `>`, `>=`, `==`, `===`, `!=`.
 *
 * Parsing happens once, when the scenario is validated: a bad expression is a usage error (exit 64) that names
 * its path and the expression, never a failed run.
 */

import { StreamproofError } from '../util/errors.ts';

export const SLO_METRICS = ['e2e_latency', 'ack_latency', 'lake_latency', 'throughput', 'error_rate'] as const;
export type SloMetric = (typeof SLO_METRICS)[number];

export const SLO_OPERATORS = ['<', '<=', '>', '>=', '==', '===', '!='] as const;
export type SloOperator = (typeof SLO_OPERATORS)[number];

export type SloAggregation = 'avg' | 'min' | 'max' | 'med' | 'count' | 'rate' | 'p';

/** What the normalised `limit` is measured in. */
export type SloUnit = 'ms' | 'per-second' | 'ratio' | 'count';

export interface Threshold {
  readonly metric: SloMetric;
  /** The expression as written. */
  readonly expression: string;
  readonly aggregation: SloAggregation;
  /** For `p(N)`: N in 0..100. */
  readonly percentile: number | undefined;
  readonly operator: SloOperator;
  /** The value normalised to `unit` (ms, per second, ratio 0..1, or a count). */
  readonly limit: number;
  readonly unit: SloUnit;
  /** e.g. `slos.e2e_latency[0]`, for messages. */
  readonly path: string;
}

/** `{ metric: [expressions] }`; a single string is accepted for one expression. */
export type SloSpec = Readonly<Partial<Record<string, string | readonly string[]>>>;

const EXPRESSION =
  /^\s*(avg|min|max|med|count|rate|p\(\s*(\d+(?:\.\d+)?)\s*\))\s*(===|==|!=|<=|>=|<|>)\s*(\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*(us|µs|ms|s|m|\/s|%)?\s*$/i;

const TIME_UNITS_MS: Readonly<Record<string, number>> = { us: 0.001, µs: 0.001, ms: 1, s: 1000, m: 60_000 };

const TREND_AGGREGATIONS: readonly SloAggregation[] = ['avg', 'min', 'max', 'med', 'p', 'count'];

/** Parses one expression for one metric. Throws StreamproofError `SLO_PARSE` / `SLO_UNKNOWN_METRIC`. */
export function parseThreshold(metric: string, expression: string, path = `slos.${metric}`): Threshold {
  if (!(SLO_METRICS as readonly string[]).includes(metric)) {
    throw StreamproofError.at(
      'SLO_UNKNOWN_METRIC',
      `unknown metric "${metric}"; streamproof measures ${SLO_METRICS.join(', ')}`,
      { path },
    );
  }
  const m = metric as SloMetric;
  const bad = (why: string): StreamproofError =>
    StreamproofError.at('SLO_PARSE', `bad threshold ${JSON.stringify(expression)}: ${why}`, { path });
  if (typeof expression !== 'string') throw bad('expected a string like "p(95)<500ms"');
  const match = EXPRESSION.exec(expression);
  if (match === null) {
    throw bad('expected <aggregation><operator><value>[unit], e.g. "p(95)<500ms", "avg>40000/s", "rate<0.01"');
  }
  const [, aggText, pText, opText, valueText, unitText] = match;
  const aggregation = (aggText!.toLowerCase().startsWith('p(') ? 'p' : aggText!.toLowerCase()) as SloAggregation;
  const percentile = pText === undefined ? undefined : Number(pText);
  if (percentile !== undefined && percentile > 100) throw bad(`percentile ${percentile} is above 100`);
  const operator = opText as SloOperator;
  const value = Number(valueText);
  const unit = unitText?.toLowerCase() === 'µs' ? 'µs' : unitText?.toLowerCase();
  const base = { metric: m, expression, aggregation, percentile, operator, path };

  if (m === 'e2e_latency' || m === 'ack_latency' || m === 'lake_latency') {
    if (!TREND_AGGREGATIONS.includes(aggregation)) {
      throw bad(`"${aggregation}" does not apply to ${m}; use avg, min, max, med, p(N) or count`);
    }
    if (aggregation === 'count') {
      if (unit !== undefined) throw bad('count takes no unit');
      return { ...base, limit: value, unit: 'count' };
    }
    if (unit !== undefined && TIME_UNITS_MS[unit] === undefined)
      throw bad(`"${unit}" is not a time unit (us, ms, s, m)`);
    return { ...base, limit: value * (unit === undefined ? 1 : TIME_UNITS_MS[unit]!), unit: 'ms' };
  }
  if (m === 'throughput') {
    if (!TREND_AGGREGATIONS.includes(aggregation)) {
      throw bad(`"${aggregation}" does not apply to throughput; use avg, min, max, med, p(N) or count`);
    }
    if (aggregation === 'count') {
      if (unit !== undefined) throw bad('count takes no unit');
      return { ...base, limit: value, unit: 'count' };
    }
    if (unit !== undefined && unit !== '/s') throw bad(`throughput is per second: write "${valueText}/s"`);
    return { ...base, limit: value, unit: 'per-second' };
  }
  // error_rate
  if (aggregation !== 'rate') throw bad(`error_rate is a rate: write "rate<${valueText}"`);
  if (unit !== undefined && unit !== '%') throw bad('error_rate takes a fraction (0.01) or a percentage (1%)');
  const limit = unit === '%' ? value / 100 : value;
  if (limit > 1) throw bad('a rate is a fraction between 0 and 1 (or a percentage up to 100%)');
  return { ...base, limit, unit: 'ratio' };
}

/** Parses a whole SLO spec, in metric then expression order. */
export function parseThresholds(spec: SloSpec, path = 'slos'): Threshold[] {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    throw StreamproofError.at('SLO_PARSE', 'expected an object of metric -> threshold expressions', { path });
  }
  const out: Threshold[] = [];
  for (const [metric, value] of Object.entries(spec)) {
    if (value === undefined) continue;
    const list = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(list)) {
      throw StreamproofError.at('SLO_PARSE', 'expected a threshold expression or a list of them', {
        path: `${path}.${metric}`,
      });
    }
    list.forEach((expression: string, i: number) => {
      out.push(parseThreshold(metric, expression, `${path}.${metric}[${i}]`));
    });
  }
  return out;
}

export function compare(observed: number, operator: SloOperator, limit: number): boolean {
  switch (operator) {
    case '<':
      return observed < limit;
    case '<=':
      return observed <= limit;
    case '>':
      return observed > limit;
    case '>=':
      return observed >= limit;
    case '==':
    case '===':
      return observed === limit;
    case '!=':
      return observed !== limit;
  }
}
