/**
 * `streamproof worker --bootstrap HOST:PORT --run-id ID [--index N] [--wait DURATION] [--json]`: one load worker of a
 * run started with `streamproof run <scenario> --workers N` (harness/workers, docs/workers.md). Exit 0 when it
 * reported its result, 3 when it could not (the coordinator then says `unknown`), 64 on bad usage.
 */
import { parseDuration } from '../util/duration.ts';
import { StreamproofError } from '../util/errors.ts';
import { intFlag, parse } from './args.ts';
import { type Command, output } from './command.ts';

export const workerCommand: Command = {
  name: 'worker',
  usage: 'worker --bootstrap HOST:PORT --run-id ID [--index N] [--wait DURATION] [--json]',
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      {
        bootstrap: { type: 'string' },
        'run-id': { type: 'string' },
        index: { type: 'string' },
        wait: { type: 'string' },
        json: { type: 'boolean' },
      },
      `streamproof ${workerCommand.usage}`,
    );
    if (positionals.length > 0) throw new StreamproofError('USAGE', `worker: unexpected argument "${positionals[0]}"`);
    const bootstrap = values.bootstrap as string | undefined;
    if (bootstrap === undefined || !/^[^\s,]+:\d+$/.test(bootstrap)) {
      throw new StreamproofError(
        'USAGE',
        `--bootstrap: expected one HOST:PORT address, got ${JSON.stringify(bootstrap)}`,
      );
    }
    const runId = values['run-id'] as string | undefined;
    if (runId === undefined) throw new StreamproofError('USAGE', '--run-id: required (the run prints it)');
    const { controlTopic } = await import('../workers/protocol.ts');
    controlTopic(runId); // validates the id, naming the flag
    const index = intFlag('index', values.index as string | undefined, { min: 0, max: 999 });
    let waitMs: number | undefined;
    if (values.wait !== undefined) {
      try {
        waitMs = parseDuration(values.wait as string, '--wait');
      } catch {
        throw new StreamproofError('USAGE', `--wait: expected a duration like "60s", got "${values.wait}"`);
      }
    }
    const out = output(!!values.json);
    const { runWorker } = await import('../workers/worker.ts');
    // A secured cluster: the worker's clients speak what the env contract's STREAMPROOF_SECURITY_* variables say.
    const { securityFromEnv, useSecurity } = await import('../kafka/security.ts');
    const secured = securityFromEnv(process.env);
    if (secured.security.protocol !== 'PLAINTEXT') useSecurity(bootstrap, secured.security, secured.options);
    const abort = new AbortController();
    const onSignal = () => abort.abort();
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    try {
      const r = await runWorker({
        bootstrap,
        runId,
        progress: out.progress,
        signal: abort.signal,
        ...(index === undefined ? {} : { index }),
        ...(waitMs === undefined ? {} : { waitMs }),
      });
      const brief = {
        index: r.index,
        aborted: r.aborted,
        offered: r.summary?.offered ?? 0,
        acked: r.summary?.acked ?? 0,
        failed: r.summary?.failed ?? 0,
        unknown: r.summary?.unknown ?? 0,
      };
      if (out.json) out.data(brief);
      else
        out.print(
          r.aborted
            ? `worker ${r.index}: the run was aborted by its coordinator`
            : `worker ${r.index}: offered ${brief.offered}, acked ${brief.acked}, failed ${brief.failed}, unknown ${brief.unknown}; reported`,
        );
      return r.aborted ? 3 : 0;
    } finally {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    }
  },
};
