/**
 * `streamproof explore <scenario> --runs N [--seed S] [--sut ...] [--contract ...] [--out DIR] [--stack own|running] [--json]`
 * `streamproof shrink <result.json> [--max-runs N] [--min-for DURATION] [--out DIR] [--stack own|running] [--json]`
 *
 * Exploration draws fault schedules from the scenario's `explore` space and stops at the first failing run; shrink
 * replays a failing run with fewer and shorter faults until it is minimal (harness/explore, docs/explore.md).
 */
import { existsSync } from 'node:fs';
import { parseDuration } from '../util/duration.ts';
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
  shellQuote,
  stackFlag,
} from './flags.ts';

export const exploreCommand: Command = {
  name: 'explore',
  usage:
    'explore <scenario.json|.ts> --runs N [--seed S] [--sut reference|"<command>"] [--contract ...] [--out DIR] [--stack own|running] [--json]',
  async run(argv, ctx) {
    const { values, positionals } = parse(
      argv,
      {
        runs: { type: 'string' },
        sut: { type: 'string' },
        contract: { type: 'string' },
        ...SEED_FLAG,
        ...OUT_FLAG,
        ...STACK_FLAG,
        ...JSON_FLAG,
      },
      `streamproof ${exploreCommand.usage}`,
    );
    if (positionals.length !== 1)
      throw new StreamproofError('USAGE', `explore: expected one scenario file, got ${positionals.length}`);
    const runs = intFlag('runs', values.runs as string | undefined, { min: 1, max: 10_000 });
    if (runs === undefined) throw new StreamproofError('USAGE', '--runs: how many schedules to try, e.g. --runs 20');
    const file = positionals[0]!;
    const { loadScenario, validateScenario } = await import('../runner/scenario.ts');
    const { withFlags } = await import('../explore/replay.ts');
    const { exploreSpace } = await import('../explore/space.ts');
    const { explore } = await import('../explore/explore.ts');
    const { writeRunReports } = await import('../../reports/run-reports.ts');
    const loaded = await loadScenario(file);
    const flags = { sut: values.sut as string | undefined, contract: values.contract as string | undefined };
    const raw = withFlags(loaded.raw, flags);
    const scenario = validateScenario(raw);
    const space = exploreSpace(raw.explore, scenario);
    const stackMode = stackFlag(values.stack, 'start a stack for the exploration');
    if (stackMode === 'running') {
      const broker = space.templates.findIndex(
        (t) => brokerProcessFault(t.targets.map((target) => ({ kind: t.kind, target }))) >= 0,
      );
      if (broker >= 0)
        throw new StreamproofError(
          'USAGE',
          `explore.space[${broker}]: a broker ${space.templates[broker]!.kind} needs a stack the exploration owns; drop --stack running`,
        );
    }
    const seed = seedFlag(values.seed) ?? scenario.events.seed;
    const out = output(!!values.json);
    const outDir = outDirFlag(values.out, `explore-${scenario.name}`);
    const stack = stackMode === 'running' ? await attachRunningStack() : undefined;
    const report = await explore({
      raw,
      scenario,
      space,
      runs,
      seed,
      outDir,
      replayOf: (f) => replayBase(f, { stack: stackMode }),
      progress: out.progress,
      writeReports: writeRunReports,
      ...(stack ? { stack } : {}),
      ...(ctx?.hooks ? { hooks: ctx.hooks } : {}),
      onRun: (r) => {
        if (!out.json)
          out.print(
            `run ${r.run}: ${r.verdict} (${r.faults.length} fault(s), ${r.seconds} s)${r.error ? `: ${r.error}` : ''}`,
          );
      },
    });
    if (out.json) out.data(report);
    else if (report.failure) {
      out.print(
        `failure in run ${report.failure.run} of ${report.runs.length}: lost ${report.failure.counts.lost}, duplicated ${report.failure.counts.duplicated}, reordered ${report.failure.counts.reordered}`,
      );
      out.print(`  replay:  ${report.failure.replay}`);
      out.print(`  shrink:  streamproof shrink ${shellQuote(report.failure.resultFile)}`);
    } else {
      out.print(`no failure in ${report.runs.length} run(s) (exit ${report.exitCode}); every run is in ${outDir}`);
    }
    if (report.failure) process.stderr.write(`seed ${seed}; replay with: ${report.failure.replay}\n`);
    return report.exitCode;
  },
};

export const shrinkCommand: Command = {
  name: 'shrink',
  usage: 'shrink <result.json> [--max-runs N] [--min-for DURATION] [--out DIR] [--stack own|running] [--json]',
  async run(argv, ctx) {
    const { values, positionals } = parse(
      argv,
      { 'max-runs': { type: 'string' }, 'min-for': { type: 'string' }, ...OUT_FLAG, ...STACK_FLAG, ...JSON_FLAG },
      `streamproof ${shrinkCommand.usage}`,
    );
    if (positionals.length !== 1)
      throw new StreamproofError('USAGE', `shrink: expected one result.json, got ${positionals.length}`);
    const resultFile = positionals[0]!;
    if (!existsSync(resultFile)) throw new StreamproofError('USAGE', `${resultFile}: no such result file`);
    const maxRuns = intFlag('max-runs', values['max-runs'] as string | undefined, { min: 2, max: 1000 });
    const minForMs =
      values['min-for'] === undefined ? undefined : parseDuration(values['min-for'], '--min-for', 'USAGE');
    const stackMode = stackFlag(values.stack, 'start a stack for the shrink');
    const { shrinkRun } = await import('../explore/shrink-run.ts');
    const { writeRunReports } = await import('../../reports/run-reports.ts');
    const out = output(!!values.json);
    const outDir = outDirFlag(values.out, 'shrink');
    const stack = stackMode === 'running' ? await attachRunningStack() : undefined;
    const report = await shrinkRun({
      resultFile,
      outDir,
      replayOf: (f) => replayBase(f, { stack: stackMode }),
      progress: out.progress,
      writeReports: writeRunReports,
      ...(maxRuns === undefined ? {} : { maxRuns }),
      ...(minForMs === undefined ? {} : { minForMs }),
      ...(stack ? { stack } : {}),
      ...(ctx?.hooks ? { hooks: ctx.hooks } : {}),
      onStep: (s) => {
        if (!out.json) out.print(`step ${s.step}: ${s.action}: ${s.verdict}`);
      },
    });
    if (out.json) out.data(report);
    else {
      const names = report.minimal.map(
        (f) => `${f.kind} ${f.target} at ${f.at}${'for' in f && f.for !== undefined ? ` for ${f.for}` : ''}`,
      );
      if (!report.reproduced) out.print(`the failure did not come back when replayed (flaky): nothing shrunk`);
      else {
        out.print(
          `minimal schedule after ${report.steps.length} replays (${report.seconds} s): ${report.minimal.length} of ${report.original.faults.length} fault(s)`,
        );
        for (const n of names) out.print(`  ${n}`);
        if (report.exhausted) out.print('  (cut short by --max-runs: smaller may exist)');
        out.print(`  scenario: ${report.minimalScenario}`);
        out.print(`  replay:   ${report.replay}`);
      }
      for (const f of report.flaky) out.print(`  flaky: ${f.action}: ${f.verdicts.join(' then ')}`);
    }
    if (report.replay) process.stderr.write(`replay with: ${report.replay}\n`);
    return report.exitCode;
  },
};
