/**
 * `streamproof certify [--suite DIR] [--baseline DIR] [--out DIR] [--tolerance-throughput PCT]
 *   [--tolerance-latency PCT] [--tolerance-latency-floor MS] [--seed N] [--stack own|running] [--json]`
 *
 * Runs every scenario of a suite, writes one certification over all of them (certification.json / .md / .html,
 * junit.xml) and, with --baseline, compares each scenario with an earlier certification. Exit: the worst of the
 * runs (1 invariant violated, 3 unknown, 2 only SLOs breached, 0 pass), and 1 when anything regressed.
 * Every flag, the suite and the baseline are checked before anything runs (exit 64 naming the flag or file).
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { StreamproofError } from '../util/errors.ts';
import { intFlag, parse } from './args.ts';
import { type Command, output } from './command.ts';
import {
  attachRunningStack,
  brokerProcessFault,
  JSON_FLAG,
  OUT_FLAG,
  outDirFlag,
  replayBase,
  SEED_FLAG,
  STACK_FLAG,
  seedFlag,
  stackFlag,
} from './flags.ts';

const DEFAULT_SUITE = 'scenarios/certify';
/** The suite shipped with streamproof, used when the working directory has no scenarios/certify of its own. */
const BUNDLED_SUITE = join(import.meta.dirname, '..', '..', 'scenarios', 'certify');

/** A percentage flag: `10` or `10%`, a number >= 0 (and <= 100 for a drop). */
function pctFlag(name: string, raw: string | undefined, max?: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw.trim().replace(/%$/, ''));
  if (raw.trim() === '' || !Number.isFinite(n) || n < 0 || (max !== undefined && n > max)) {
    throw new StreamproofError(
      'USAGE',
      `--${name}: expected a percentage >= 0${max !== undefined ? ` and <= ${max}` : ''} like 10 or 10%, got "${raw}"`,
    );
  }
  return n;
}

export const certifyCommand: Command = {
  name: 'certify',
  usage:
    'certify [--suite DIR] [--baseline DIR] [--out DIR] [--tolerance-throughput PCT] [--tolerance-latency PCT] [--tolerance-latency-floor MS] [--seed N] [--stack own|running] [--json]',
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      {
        suite: { type: 'string' },
        baseline: { type: 'string' },
        ...OUT_FLAG,
        'tolerance-throughput': { type: 'string' },
        'tolerance-latency': { type: 'string' },
        'tolerance-latency-floor': { type: 'string' },
        ...SEED_FLAG,
        ...STACK_FLAG,
        ...JSON_FLAG,
      },
      `streamproof ${certifyCommand.usage}`,
    );
    if (positionals.length > 0) {
      throw new StreamproofError(
        'USAGE',
        `certify: unexpected argument "${positionals[0]}" (the suite is a directory given with --suite)`,
      );
    }
    const throughputPct = pctFlag('tolerance-throughput', values['tolerance-throughput'] as string | undefined, 100);
    const latencyPct = pctFlag('tolerance-latency', values['tolerance-latency'] as string | undefined);
    const latencyFloorMs = intFlag('tolerance-latency-floor', values['tolerance-latency-floor'] as string | undefined, {
      min: 0,
    });
    const seed = seedFlag(values.seed);
    const stackMode = stackFlag(values.stack, 'the suite starts its own stack');

    let suiteDir = values.suite as string | undefined;
    if (suiteDir === undefined) suiteDir = existsSync(DEFAULT_SUITE) ? DEFAULT_SUITE : BUNDLED_SUITE;
    if (!existsSync(suiteDir) || !statSync(suiteDir).isDirectory()) {
      throw new StreamproofError(
        'USAGE',
        `--suite: ${suiteDir}: no such directory (a suite is a directory of scenarios)`,
      );
    }
    const { loadSuite, loadBaseline, certify, DEFAULT_TOLERANCES, resolveTolerances } = await import(
      '../certify/index.ts'
    );
    const { certificationReports, certificationText } = await import('../../reports/certify.ts');
    const suite = await loadSuite(suiteDir);
    const tolerances = resolveTolerances(
      {
        ...(throughputPct !== undefined ? { throughputPct } : {}),
        ...(latencyPct !== undefined ? { latencyPct } : {}),
        ...(latencyFloorMs !== undefined ? { latencyFloorMs } : {}),
      },
      'tolerances',
      { ...DEFAULT_TOLERANCES, ...suite.tolerances },
    );

    const outDir = outDirFlag(values.out, 'certify');
    const baselineDir = values.baseline as string | undefined;
    let baseline: import('../certify/index.ts').Baseline | undefined;
    if (baselineDir !== undefined) {
      if (!existsSync(baselineDir) || !statSync(baselineDir).isDirectory()) {
        throw new StreamproofError(
          'USAGE',
          `--baseline: ${baselineDir}: no such directory (a baseline is the --out directory of an earlier certify)`,
        );
      }
      if (resolve(baselineDir) === resolve(outDir)) {
        throw new StreamproofError(
          'USAGE',
          `--out: ${outDir} is the baseline directory; write the candidate elsewhere`,
        );
      }
      try {
        baseline = loadBaseline(baselineDir);
      } catch (err) {
        if (err instanceof StreamproofError) throw new StreamproofError(err.code, `--baseline: ${err.message}`);
        throw err;
      }
    }

    const out = output(!!values.json);
    let stack: import('../stack/stack.ts').StartedStack | undefined;
    if (stackMode === 'running') {
      const needsOwn = suite.entries.find((e) => brokerProcessFault(e.scenario.faults) >= 0);
      if (needsOwn) {
        throw new StreamproofError(
          'USAGE',
          `${needsOwn.file}: faults[${brokerProcessFault(needsOwn.scenario.faults)}]: a broker kill or restart needs a stack the run owns; drop --stack running`,
        );
      }
      stack = await attachRunningStack();
    }

    out.progress({
      phase: 'certify',
      message: `suite ${suite.dir}: ${suite.entries.map((e) => e.name).join(', ')}${baseline ? `; baseline ${baseline.dir}` : ''}; out ${outDir}`,
    });
    const { certification } = await certify({
      suite,
      outDir,
      baseline,
      tolerances,
      seed,
      stack,
      progress: out.progress,
      replayBase: (e) => replayBase(e.file, { stack: stackMode }),
      reports: certificationReports,
    });
    if (out.json) out.data(certification);
    else out.print(certificationText(certification, outDir));
    return certification.exitCode;
  },
};
