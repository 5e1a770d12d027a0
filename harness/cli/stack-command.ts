/**
 * `streamproof stack up|status|down`: a stack that outlives the command, run by a detached supervisor (daemon.ts).
 */
import { fork } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { type DaemonMessage, readState, type StackState } from '../stack/daemon.ts';
import { portFree } from '../stack/ports.ts';
import { alive } from '../stack/process.ts';
import { StreamproofError } from '../util/errors.ts';
import { intFlag, parse } from './args.ts';
import { type Command, type Out, output } from './command.ts';

const bin = fileURLToPath(new URL('../../bin/streamproof.js', import.meta.url));

export function describe(state: StackState): string {
  const s = state.status;
  const lines = [
    `kafka ${s.kafka.version}  bootstrap ${s.kafka.bootstrap}  proxied ${s.kafka.proxiedBootstrap}`,
    ...s.kafka.brokers.map(
      (b) =>
        `  broker ${b.id}  direct ${b.direct}  proxied ${b.proxied} (${b.proxy})  pid ${b.pid}${alive(b.pid) ? '' : '  NOT RUNNING'}`,
    ),
    `toxiproxy ${s.toxiproxy.version}  ${s.toxiproxy.api}  pid ${s.toxiproxy.pid}`,
    s.registry
      ? `registry apicurio ${s.registry.version}  ${s.registry.url}  pid ${s.registry.pid}`
      : 'registry: not started',
    `tools classpath ${s.toolsClasspath}`,
    `state ${s.dir}  supervisor pid ${state.supervisorPid}`,
  ];
  return lines.join('\n');
}

function withLiveness(state: StackState): StackState {
  const s = state.status;
  return {
    ...state,
    status: { ...s, kafka: { ...s.kafka, brokers: s.kafka.brokers.map((b) => ({ ...b, running: alive(b.pid) })) } },
  };
}

export async function stackUp(
  opts: { brokers: 1 | 3; portBase?: number; registry: boolean },
  out: Out,
): Promise<number> {
  const running = readState();
  if (running) {
    out.progress({
      phase: 'stack',
      message: 'a stack is already running; starting nothing (run `streamproof stack down` first to replace it)',
    });
    if (out.json)
      out.data({ alreadyRunning: true, ...withLiveness(running).status, supervisorPid: running.supervisorPid });
    else out.print(`already running:\n${describe(withLiveness(running))}`);
    return 0;
  }
  const child = fork(bin, ['__stack-daemon', JSON.stringify(opts)], {
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
  });
  const abort = () => child.kill('SIGTERM');
  process.once('SIGINT', abort);
  process.once('SIGTERM', abort);
  try {
    const result = await new Promise<StackState>((resolve, reject) => {
      child.on('message', (m: DaemonMessage) => {
        if (m.type === 'progress') out.progress(m);
        else if (m.type === 'ready') resolve(m.state);
        else if (m.type === 'error')
          reject(new StreamproofError(m.error.code as 'STACK_START_FAILED', m.error.message));
      });
      child.once('exit', (code) =>
        reject(
          new StreamproofError(
            'STACK_START_FAILED',
            `the stack supervisor exited (code ${code}) before the stack was ready`,
          ),
        ),
      );
    });
    child.disconnect();
    child.unref();
    if (out.json) out.data({ ...result.status, supervisorPid: result.supervisorPid });
    else out.print(describe(result));
    return 0;
  } finally {
    process.off('SIGINT', abort);
    process.off('SIGTERM', abort);
  }
}

export function stackStatus(out: Out): number {
  const state = readState();
  if (!state) {
    if (out.json) out.data({ running: false });
    else out.print('no stack is running (start one with `streamproof stack up`)');
    return 1;
  }
  const live = withLiveness(state);
  if (out.json) out.data({ running: true, ...live.status, supervisorPid: state.supervisorPid });
  else out.print(describe(live));
  return 0;
}

export async function stackDown(out: Out): Promise<number> {
  const state = readState();
  if (!state) {
    if (out.json) out.data({ stopped: false, reason: 'no stack running' });
    else out.print('no stack is running');
    return 0;
  }
  const s = state.status;
  const pids = [
    state.supervisorPid,
    ...s.kafka.brokers.map((b) => b.pid),
    s.toxiproxy.pid,
    ...(s.registry ? [s.registry.pid] : []),
  ];
  out.progress({ phase: 'stack', message: `stopping the stack (supervisor pid ${state.supervisorPid})` });
  process.kill(state.supervisorPid, 'SIGTERM');
  const deadline = Date.now() + 45_000;
  while (pids.some(alive) && Date.now() < deadline) await sleep(100);
  const stragglers = pids.filter(alive);
  for (const pid of stragglers) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const ports = [
    ...s.kafka.brokers.flatMap((b) => [b.direct, b.proxied]),
    s.toxiproxy.api.replace('http://', ''),
    ...(s.registry ? [new URL(s.registry.url).host] : []),
  ].map((hp) => Number(hp.split(':')[1]));
  const bound: number[] = [];
  for (const p of ports) if (!(await portFree(p))) bound.push(p);
  if (out.json) out.data({ stopped: true, killed: stragglers, portsStillBound: bound });
  else
    out.print(
      `stopped${stragglers.length ? ` (had to SIGKILL ${stragglers.join(', ')})` : ''}${bound.length ? `; ports still bound: ${bound.join(', ')}` : ''}`,
    );
  return bound.length ? 3 : 0;
}

export const stackCommand: Command = {
  name: 'stack',
  usage:
    'stack up [--brokers 1|3] [--port-base N] [--no-registry] [--json] | stack status [--json] | stack down [--json]',
  async run(argv) {
    const [sub, ...flags] = argv;
    const { values, positionals } = parse(
      flags,
      {
        brokers: { type: 'string' },
        'port-base': { type: 'string' },
        'no-registry': { type: 'boolean' },
        json: { type: 'boolean' },
      },
      `streamproof ${stackCommand.usage}`,
    );
    if (positionals.length) throw new StreamproofError('USAGE', `stack: unexpected argument "${positionals[0]}"`);
    const out = output(!!values.json);
    if (sub === 'up') {
      const brokers = (intFlag('brokers', values.brokers as string | undefined, { oneOf: [1, 3] }) ?? 1) as 1 | 3;
      const portBase = intFlag('port-base', values['port-base'] as string | undefined, { min: 1024, max: 65_000 });
      return stackUp({ brokers, portBase, registry: !values['no-registry'] }, out);
    }
    if (sub === 'status') return stackStatus(out);
    if (sub === 'down') return stackDown(out);
    throw new StreamproofError('USAGE', `stack: expected up, status or down, got "${sub ?? ''}"`);
  },
};
