/**
 * `streamproof run <scenario> [--sut reference|"<command>"] [--contract copy|attribution] [--seed N] [--out DIR] [--json]`
 */
import { join } from 'node:path';
import { StreamproofError } from '../util/errors.ts';
import { intFlag, parse } from './args.ts';
import { type Command, output } from './command.ts';

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export const runCommand: Command = {
  name: 'run',
  usage:
    'run <scenario.json|.ts> [--sut reference|"<command>"] [--contract copy|attribution] [--seed N] [--out DIR] [--stack own|running] [--workers N [--spawn-workers K]] [--json]',
  async run(argv, ctx) {
    const { values, positionals } = parse(
      argv,
      {
        sut: { type: 'string' },
        contract: { type: 'string' },
        seed: { type: 'string' },
        out: { type: 'string' },
        stack: { type: 'string' },
        workers: { type: 'string' },
        'spawn-workers': { type: 'string' },
        json: { type: 'boolean' },
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
    const raw = structuredClone(loaded.raw) as { sut: { command?: string; contract?: string } };
    if (values.sut !== undefined) raw.sut = { ...raw.sut, command: values.sut as string };
    if (values.contract !== undefined) {
      if (!['copy', 'attribution'].includes(values.contract as string)) {
        throw new StreamproofError('USAGE', `--contract: expected copy or attribution, got "${values.contract}"`);
      }
      raw.sut = { ...raw.sut, contract: values.contract as string };
    }
    const scenario = validateScenario(raw);
    const out = output(!!values.json);
    const stackMode = (values.stack as string | undefined) ?? 'own';
    if (stackMode !== 'own' && stackMode !== 'running') {
      throw new StreamproofError(
        'USAGE',
        `--stack: expected own (start a fresh stack for this run) or running (attach to \`streamproof stack up\`), got "${stackMode}"`,
      );
    }
    let stack: import('../stack/stack.ts').StartedStack | undefined;
    if (stackMode === 'running') {
      const brokerFault = scenario.faults.findIndex(
        (f) => ['kill', 'restart'].includes(f.kind) && String(f.target).startsWith('broker:'),
      );
      if (brokerFault >= 0) {
        throw new StreamproofError(
          'USAGE',
          `scenario.faults[${brokerFault}]: a broker ${scenario.faults[brokerFault]!.kind} needs a stack the run owns; drop --stack running`,
        );
      }
      const { attachStack } = await import('../stack/attach.ts');
      stack = attachStack();
      if (stack.status().kafka.brokers.length !== scenario.stack.brokers) {
        out.progress({
          phase: 'run',
          message: `note: the running stack has ${stack.status().kafka.brokers.length} broker(s), the scenario asks for ${scenario.stack.brokers}`,
        });
      }
    }
    const seed = intFlag('seed', values.seed as string | undefined, { min: 0, max: Number.MAX_SAFE_INTEGER });
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
    const outDir =
      (values.out as string | undefined) ??
      join('out', `${scenario.name}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    const replayBase = [
      'streamproof run',
      shellQuote(file),
      ...(values.sut !== undefined ? ['--sut', shellQuote(values.sut as string)] : []),
      ...(values.contract !== undefined ? ['--contract', values.contract as string] : []),
      ...(stackMode === 'running' ? ['--stack', 'running'] : []),
      ...(workers !== undefined ? ['--workers', String(workers)] : []),
    ].join(' ');
    const result = await runScenario({
      scenario,
      scenarioFile: file,
      seed,
      outDir,
      progress: out.progress,
      replayBase,
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
