/**
 * Attach to the stack `streamproof stack up` started (another process owns it). Everything a run needs works:
 * endpoints, Toxiproxy faults, pausing a broker; a broker kill or restart does not, since only the owner can start
 * a broker again, so the runner refuses scenarios with broker process faults on an attached stack.
 */
import { Toxiproxy } from 'toxiproxy-node-client';
import { StreamproofError } from '../util/errors.ts';
import { readState } from './daemon.ts';
import { alive } from './process.ts';
import type { BrokerHandle, StartedStack } from './stack.ts';

export function attachStack(): StartedStack {
  const state = readState();
  if (!state)
    throw new StreamproofError(
      'STACK_NOT_RUNNING',
      'no stack is running to attach to; start one with `streamproof stack up`',
    );
  const s = state.status;
  const notOwner = (what: string) =>
    new StreamproofError(
      'USAGE',
      `${what} needs the stack's owner; this run is attached to the stack of \`streamproof stack up\` (pid ${state.supervisorPid})`,
    );
  const signal = (pid: number, sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      // gone already
    }
  };
  const handles = new Map<number, BrokerHandle>(
    s.kafka.brokers.map((b) => [
      b.id,
      {
        id: b.id,
        pid: b.pid,
        running: () => alive(b.pid),
        kill: async () => {
          throw notOwner(`killing broker ${b.id}`);
        },
        pause: () => signal(b.pid, 'SIGSTOP'),
        resume: () => signal(b.pid, 'SIGCONT'),
        start: async () => {
          if (!alive(b.pid)) throw notOwner(`starting broker ${b.id}`);
        },
        stop: async () => {
          throw notOwner(`stopping broker ${b.id}`);
        },
        restart: async () => {
          throw notOwner(`restarting broker ${b.id}`);
        },
      },
    ]),
  );
  const stack: StartedStack = {
    bootstrap: s.kafka.bootstrap,
    proxiedBootstrap: s.kafka.proxiedBootstrap,
    registryUrl: s.registry?.url,
    toxiproxy: new Toxiproxy(s.toxiproxy.api),
    ports: { toxiproxyApi: 0, registry: 0, registryManagement: 0, brokers: [] },
    broker(id) {
      const h = handles.get(id);
      if (!h)
        throw new StreamproofError('USAGE', `broker:${id}: no such broker (the running stack has ${handles.size})`);
      return h;
    },
    status: () => ({
      ...s,
      kafka: { ...s.kafka, brokers: s.kafka.brokers.map((b) => ({ ...b, running: alive(b.pid) })) },
    }),
    // Not ours to stop.
    stop: async () => {},
    [Symbol.asyncDispose]: async () => {},
  };
  return stack;
}
