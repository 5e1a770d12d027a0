/**
 * `streamproof run <scenario> [--sut reference|"<command>"] [--contract copy|lineage|attribution|model:<module>] [--seed N] [--out DIR] [--json]`,
 * on a cluster of your own with the flags of external-flags.ts.
 */
import { resolve } from 'node:path';
import { StreamproofError } from '../util/errors.ts';
import { intFlag, parse } from './args.ts';
import { type Command, output } from './command.ts';
import { applyExternalFlags, EXTERNAL_FLAGS, EXTERNAL_USAGE } from './external-flags.ts';
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

export const runCommand: Command = {
  name: 'run',
  usage:
    'run <scenario.json|.ts> [--sut reference|"<command>"] [--contract copy|lineage|attribution|model:<module>] [--seed N] [--out DIR] [--stack own|running] [--runtime local|testcontainers] [--workers N [--spawn-workers K]] ' +
    `${EXTERNAL_USAGE} [--json]`,
  async run(argv, ctx) {
    const { values, positionals } = parse(
      argv,
      {
        sut: { type: 'string' },
        contract: { type: 'string' },
        ...SEED_FLAG,
        ...OUT_FLAG,
        ...STACK_FLAG,
        runtime: { type: 'string' },
        ...EXTERNAL_FLAGS,
        workers: { type: 'string' },
        'spawn-workers': { type: 'string' },
        ...JSON_FLAG,
      },
      `streamproof ${runCommand.usage}`,
    );
    if (positionals.length !== 1)
      throw new StreamproofError('USAGE', `run: expected one scenario file, got ${positionals.length}`);
    const file = positionals[0]!;
    // Loaded on use: the runner pulls in the whole harness, which `stack` or `doctor` do not need.
    const { loadScenario, validateScenario } = await import('../runner/scenario.ts');
    const { runScenario } = await import('../runner/run.ts');
    const { summaryText } = await import('../runner/result.ts');
    const { writeRunReports } = await import('../../reports/run-reports.ts');
    const loaded = await loadScenario(file);
    const raw = structuredClone(loaded.raw) as {
      sut: { command?: string; contract?: unknown; lineage?: unknown };
      stack?: Record<string, unknown>;
    };
    const stackReplay = applyExternalFlags(raw, values, file);
    const runtime = values.runtime as string | undefined;
    if (runtime !== undefined) {
      if (runtime !== 'local' && runtime !== 'testcontainers')
        throw new StreamproofError('USAGE', `--runtime: expected local or testcontainers, got "${runtime}"`);
      if (values.stack === 'running')
        throw new StreamproofError('USAGE', '--runtime: the run attaches to a running stack (--stack running)');
      raw.stack = { ...raw.stack, runtime };
      stackReplay.unshift(`--runtime ${runtime}`);
    }
    if (values.sut !== undefined) raw.sut = { ...raw.sut, command: values.sut as string };
    if (values.contract !== undefined) {
      const c = values.contract as string;
      const model = /^model:(.+)$/.exec(c)?.[1];
      if (model === undefined && !['copy', 'lineage', 'attribution'].includes(c)) {
        throw new StreamproofError(
          'USAGE',
          `--contract: expected copy, lineage, attribution or model:<module path>, got "${values.contract}"`,
        );
      }
      // A module named on the command line is relative to the working directory, not to the scenario file.
      raw.sut = { ...raw.sut, contract: model === undefined ? c : { model: resolve(model) } };
      // The scenario's lineage block belongs to its lineage contract: another contract from the command line drops it.
      if (c !== 'lineage') delete raw.sut.lineage;
    }
    const scenario = validateScenario(raw);
    const out = output(!!values.json);
    const stackMode = stackFlag(values.stack, 'start a fresh stack for this run');
    if (scenario.stack.external) {
      if (stackMode === 'running')
        throw new StreamproofError('USAGE', '--stack running: the run goes to an external cluster (stack.external)');
      (await import('../runner/external-stack.ts')).checkSecrets(scenario.stack.external);
    }
    let stack: import('../stack/stack.ts').StartedStack | undefined;
    if (stackMode === 'running') {
      const brokerFault = brokerProcessFault(scenario.faults);
      if (brokerFault >= 0) {
        throw new StreamproofError(
          'USAGE',
          `scenario.faults[${brokerFault}]: a broker ${scenario.faults[brokerFault]!.kind} needs a stack the run owns; drop --stack running`,
        );
      }
      stack = await attachRunningStack();
      if (stack.status().kafka.brokers.length !== scenario.stack.brokers) {
        out.progress({
          phase: 'run',
          message: `note: the running stack has ${stack.status().kafka.brokers.length} broker(s), the scenario asks for ${scenario.stack.brokers}`,
        });
      }
    }
    const seed = seedFlag(values.seed);
    const workers = intFlag('workers', values.workers as string | undefined, {
      min: 1,
      max: Math.min(64, scenario.stack.partitions),
    });
    if (workers !== undefined && workers > 1 && scenario.load.via === 'http')
      throw new StreamproofError('USAGE', '--workers: HTTP load (load.via "http") runs in one process; drop --workers');
    const spawnWorkers = intFlag('spawn-workers', values['spawn-workers'] as string | undefined, {
      min: 0,
      max: workers ?? scenario.load.workers,
    });
    const outDir = outDirFlag(values.out, scenario.name);
    const replay = replayBase(file, {
      sut: values.sut as string | undefined,
      contract: values.contract as string | undefined,
      stack: stackMode,
      workers,
    }).concat(stackReplay.length > 0 ? ` ${stackReplay.join(' ')}` : '');
    const result = await runScenario({
      scenario,
      scenarioFile: file,
      seed,
      outDir,
      progress: out.progress,
      replayBase: replay,
      stack,
      writeReports: writeRunReports,
      ...(ctx?.hooks ? { hooks: ctx.hooks } : {}),
      ...(workers === undefined ? {} : { workers }),
      ...(spawnWorkers === undefined ? {} : { spawnWorkers }),
    });
    if (out.json) out.data(result);
    else {
      out.print(summaryText(result));
      if (result.files.report) out.print(`  report ${result.files.report} (and report.md beside it)`);
    }
    if (result.exitCode !== 0) process.stderr.write(`seed ${result.seed}; replay with: ${result.replay}\n`);
    return result.exitCode;
  },
};
