/**
 * Ports of a stack. With `portBase` the layout is fixed and documented (so firewalls and bookmarks keep working):
 *   base+0 toxiproxy API, base+1 registry HTTP, base+2 registry management,
 *   broker i (1-based): base+10*i + 0 direct, +1 broker-side proxied listener, +2 controller, +3 toxiproxy proxy.
 * Without it, free ports are picked by the OS. Either way every port is checked before anything starts, so a taken
 * port is a clear error that names it instead of a broker dying later with "Address already in use".
 */
import { createServer } from 'node:net';
import { StreamproofError } from '../util/errors.ts';

export interface BrokerPorts {
  direct: number;
  listener: number;
  controller: number;
  proxy: number;
}

export interface StackPorts {
  toxiproxyApi: number;
  registry: number;
  registryManagement: number;
  brokers: BrokerPorts[];
}

export function portFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

function ephemeralPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen({ port: 0, host: '127.0.0.1' }, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export function layout(base: number, brokers: number): StackPorts {
  return {
    toxiproxyApi: base,
    registry: base + 1,
    registryManagement: base + 2,
    brokers: Array.from({ length: brokers }, (_, i) => {
      const b = base + 10 * (i + 1);
      return { direct: b, listener: b + 1, controller: b + 2, proxy: b + 3 };
    }),
  };
}

export function allPorts(p: StackPorts): number[] {
  return [
    p.toxiproxyApi,
    p.registry,
    p.registryManagement,
    ...p.brokers.flatMap((b) => [b.direct, b.listener, b.controller, b.proxy]),
  ];
}

export async function allocatePorts(brokers: number, portBase?: number): Promise<StackPorts> {
  if (portBase !== undefined) {
    if (!Number.isInteger(portBase) || portBase < 1024 || portBase + 10 * (brokers + 1) > 65535) {
      throw new StreamproofError(
        'USAGE',
        `--port-base: expected an integer in 1024..${65535 - 10 * (brokers + 1)}, got ${portBase}`,
      );
    }
    const ports = layout(portBase, brokers);
    for (const port of allPorts(ports)) {
      if (!(await portFree(port))) {
        throw new StreamproofError(
          'PORT_IN_USE',
          `port ${port} on 127.0.0.1 is already in use (stack layout from --port-base ${portBase}); choose another base with --port-base N (the stack uses N..N+${10 * (brokers + 1) - 1}) or stop what holds it (\`ss -ltnp 'sport = :${port}'\`)`,
          { port },
        );
      }
    }
    return ports;
  }
  // Distinct OS-chosen ports: ask for all of them before releasing any would be ideal; asking one at a time and
  // de-duplicating is enough here since the OS does not hand back a just-released port immediately.
  const seen = new Set<number>();
  const next = async (): Promise<number> => {
    for (;;) {
      const p = await ephemeralPort();
      if (!seen.has(p)) {
        seen.add(p);
        return p;
      }
    }
  };
  const result: StackPorts = {
    toxiproxyApi: await next(),
    registry: await next(),
    registryManagement: await next(),
    brokers: [],
  };
  for (let i = 0; i < brokers; i++) {
    result.brokers.push({
      direct: await next(),
      listener: await next(),
      controller: await next(),
      proxy: await next(),
    });
  }
  return result;
}
