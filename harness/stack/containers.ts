/**
 * The testcontainers runtime: the same stack as stack.ts (KRaft brokers, one Toxiproxy proxy per broker, the
 * registry), as containers on a Docker network of their own. Nothing but a Docker engine and the `testcontainers`
 * package is needed on the machine: no Java, Maven or Go.
 *
 *   broker-<i>   INTERNAL :9094 (inter-broker, on the network), CONTROLLER :9093 (network only),
 *                DIRECT :9092 published at 127.0.0.1:<direct> (the harness's own path),
 *                PROXIED :9095 reached only by Toxiproxy, advertised at 127.0.0.1:<proxy>
 *   toxiproxy    API :8474 published at <toxiproxyApi>; proxy <i> listens on :2000<i>, published at <proxy>
 *   registry     :8080 published at <registry>
 *
 * Host ports are chosen before anything starts (ports.ts) and published at fixed numbers, not random ones, because
 * a broker's advertised addresses must be known when its container is created, and a killed broker must come back
 * at the same address (Docker gives a restarted container new random ports). So the images need no "wait for the
 * advertised address" step either.
 *
 * Faults: kill = SIGKILL to the container, pause = the cgroup freezer (docker pause), start = the same container
 * again, with its data. Without Ryuk (TESTCONTAINERS_RYUK_DISABLED=true) every container is labelled with the
 * harness's pid, and a later start removes the containers and networks of harnesses that died without cleaning up.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Toxiproxy } from 'toxiproxy-node-client';
import { brokerIds } from '../kafka/clients.ts';
import { StreamproofError } from '../util/errors.ts';
import { stateRoot } from '../util/paths.ts';
import { silent } from '../util/progress.ts';
import { resolveImages } from './images.ts';
import { serverProperties } from './kafka.ts';
import { allocatePorts } from './ports.ts';
import { waitClusterReady } from './ready.ts';
import type { BrokerHandle, StackOptions, StartedStack } from './stack.ts';
import { proxyName } from './toxiproxy.ts';
import { versions } from './versions.ts';
import { waitFor } from './wait.ts';

type TC = typeof import('testcontainers');
type Started = Awaited<ReturnType<InstanceType<TC['GenericContainer']>['start']>>;
type Docker = Awaited<ReturnType<TC['getContainerRuntimeClient']>>;

const OWNER_LABEL = 'streamproof.owner-pid';
const STACK_LABEL = 'streamproof.stack';

async function loadTestcontainers(): Promise<TC> {
  try {
    return await import('testcontainers');
  } catch {
    throw new StreamproofError(
      'MISSING_TOOL',
      'stack.runtime "testcontainers" needs the testcontainers package: npm install --save-dev testcontainers (and a running Docker engine; `streamproof doctor` checks both)',
    );
  }
}

async function dockerClient(tc: TC): Promise<Docker> {
  try {
    return await tc.getContainerRuntimeClient();
  } catch (err) {
    throw new StreamproofError(
      'MISSING_TOOL',
      `stack.runtime "testcontainers": no Docker engine answers (${err instanceof Error ? err.message : String(err)}); start one, or set DOCKER_HOST. \`streamproof doctor\` checks`,
    );
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the containers and networks of stacks whose harness is gone (it was killed before it could stop them). */
export async function reapOrphans(docker: Docker): Promise<number> {
  const api = docker.container.dockerode;
  const mine = await api.listContainers({ all: true, filters: { label: [OWNER_LABEL] } });
  const orphans = mine.filter((c) => !alive(Number(c.Labels[OWNER_LABEL])));
  await Promise.allSettled(orphans.map((c) => api.getContainer(c.Id).remove({ force: true, v: true })));
  const nets = await api.listNetworks({ filters: { label: [OWNER_LABEL] } });
  await Promise.allSettled(
    nets.filter((n) => !alive(Number(n.Labels?.[OWNER_LABEL]))).map((n) => api.getNetwork(n.Id).remove()),
  );
  return orphans.length;
}

/** Server properties → apache/kafka's environment contract ("." → "_", "_" → "__", "-" → "___", upper case). */
export function kafkaEnv(props: Record<string, string | number | boolean>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(props)) {
    env[`KAFKA_${k.replace(/_/g, '__').replace(/-/g, '___').replace(/\./g, '_').toUpperCase()}`] = String(v);
  }
  return env;
}

export async function startContainerStack(options: StackOptions = {}): Promise<StartedStack> {
  const started = Date.now();
  const n = options.brokers ?? 1;
  if (n !== 1 && n !== 3) throw new StreamproofError('USAGE', `brokers: expected 1 or 3, got ${n}`);
  const progress = options.progress ?? silent;
  const timeoutMs = options.startTimeoutMs ?? 180_000;
  const wantRegistry = options.registry ?? true;
  const images = resolveImages(options.images);
  const tc = await loadTestcontainers();
  const docker = await dockerClient(tc);
  const reaped = await reapOrphans(docker);
  if (reaped) progress({ phase: 'stack', message: `removed ${reaped} container(s) left by a harness that died` });

  const ports = await allocatePorts(n, options.portBase);
  mkdirSync(stateRoot(), { recursive: true });
  const dir = options.dir ?? mkdtempSync(join(stateRoot(), 'stack-'));
  mkdirSync(dir, { recursive: true });
  const keepDir = options.keepDir ?? options.dir !== undefined;
  const stackId = randomBytes(6).toString('hex');
  const labels = { [OWNER_LABEL]: String(process.pid), [STACK_LABEL]: stackId };
  const clusterId = randomBytes(16).toString('base64url').replace(/^-/, 'A');
  const ids = Array.from({ length: n }, (_, i) => i + 1);
  const api = docker.container.dockerode;

  const containers = new Map<string, Started>();
  let networkId: string | undefined;
  const stopAll = async () => {
    await Promise.allSettled(
      [...containers.entries()].map(async ([name, c]) => {
        await saveLogs(name, c).catch(() => {});
        await c.stop({ timeout: 2, remove: true, removeVolumes: true });
      }),
    );
    if (networkId)
      await api
        .getNetwork(networkId)
        .remove()
        .catch(() => {});
    if (!keepDir) rmSync(dir, { recursive: true, force: true });
  };
  const saveLogs = async (name: string, c: Started) => {
    const raw = await api.getContainer(c.getId()).logs({ stdout: true, stderr: true, tail: 2000 });
    writeFileSync(join(dir, `${name}.log`), demux(raw as unknown as Buffer));
  };

  try {
    progress({
      phase: 'stack',
      message: `starting ${n} broker container(s), toxiproxy${wantRegistry ? ', registry' : ''} (${images.kafka})`,
    });
    const net = await api.createNetwork({ Name: `streamproof-${stackId}`, Driver: 'bridge', Labels: labels });
    networkId = net.id;
    const netName = `streamproof-${stackId}`;
    const base = (image: string, alias: string) =>
      new tc.GenericContainer(image)
        .withNetworkMode(netName)
        .withNetworkAliases(alias)
        .withName(`streamproof-${stackId}-${alias}`)
        .withLabels(labels)
        .withStartupTimeout(timeoutMs);

    const toxi = await base(images.toxiproxy, 'toxiproxy')
      .withExposedPorts(
        { container: 8474, host: ports.toxiproxyApi },
        ...ids.map((id, i) => ({ container: 20000 + id, host: ports.brokers[i]!.proxy })),
      )
      .withWaitStrategy(tc.Wait.forHttp('/version', 8474))
      .start();
    containers.set('toxiproxy', toxi);
    const host = toxi.getHost() === 'localhost' ? '127.0.0.1' : toxi.getHost();
    const toxiApi = `http://${host}:${ports.toxiproxyApi}`;
    const client = new Toxiproxy(toxiApi);
    for (const id of ids) {
      await client.createProxy({ name: proxyName(id), listen: `0.0.0.0:${20000 + id}`, upstream: `broker-${id}:9095` });
    }
    progress({ phase: 'stack', message: 'toxiproxy ready; starting brokers' });

    const registryStart = wantRegistry
      ? base(images.registry, 'registry')
          .withExposedPorts({ container: 8080, host: ports.registry })
          .withWaitStrategy(tc.Wait.forHttp('/apis/ccompat/v7/subjects', 8080))
          .start()
      : undefined;
    registryStart?.catch(() => {});

    const brokerEnv = (id: number, i: number) => {
      const p = ports.brokers[i]!;
      const props = serverProperties({
        id,
        ports: p,
        voters: ids.map((v) => ({ id: v, controller: 9093 })),
        dir: '/tmp',
        clusterId,
        classpath: '',
        java: '',
        overrides: options.brokerConfig,
      });
      return {
        ...kafkaEnv({
          ...props,
          'controller.quorum.voters': ids.map((v) => `${v}@broker-${v}:9093`).join(','),
          listeners: 'INTERNAL://:9094,DIRECT://:9092,PROXIED://:9095,CONTROLLER://:9093',
          'advertised.listeners': `INTERNAL://broker-${id}:9094,DIRECT://${host}:${p.direct},PROXIED://${host}:${p.proxy}`,
          'listener.security.protocol.map':
            'INTERNAL:PLAINTEXT,DIRECT:PLAINTEXT,PROXIED:PLAINTEXT,CONTROLLER:PLAINTEXT',
          'inter.broker.listener.name': 'INTERNAL',
          'log.dirs': '/tmp/kraft-combined-logs',
          ...options.brokerConfig,
        }),
        CLUSTER_ID: clusterId,
        KAFKA_HEAP_OPTS: `-Xms${options.brokerHeap ?? '256m'} -Xmx${options.brokerHeap ?? '1g'}`,
      };
    };
    // Every broker at once: in a 3-voter quorum none is ready before the others are up.
    const brokers = await Promise.all(
      ids.map((id, i) =>
        base(images.kafka, `broker-${id}`)
          .withEnvironment(brokerEnv(id, i))
          .withExposedPorts({ container: 9092, host: ports.brokers[i]!.direct })
          .withWaitStrategy(tc.Wait.forLogMessage(/Kafka Server started|Transition from STARTING to STARTED/))
          .start()
          .then((c) => {
            containers.set(`broker-${id}`, c);
            return c;
          }),
      ),
    );
    const bootstrap = `${host}:${ports.brokers[0]!.direct}`;
    const proxiedBootstrap = `${host}:${ports.brokers[0]!.proxy}`;
    const state = new Map<number, 'running' | 'paused' | 'down'>(ids.map((id) => [id, 'running']));
    const inspectDead = async (): Promise<string | undefined> => {
      for (const [name, c] of containers) {
        const id = Number(name.replace('broker-', ''));
        if (name.startsWith('broker-') && state.get(id) === 'down') continue;
        const s = (await api.getContainer(c.getId()).inspect()).State;
        if (!s.Running)
          return `${name} (container ${c.getId().slice(0, 12)}) exited (${s.ExitCode}${s.OOMKilled ? ', out of memory' : ''}); its log is ${join(dir, `${name}.log`)} once the stack stops`;
      }
      return undefined;
    };
    await waitClusterReady({ bootstrap, proxiedBootstrap, brokers: n, timeoutMs, progress, failFast: inspectDead });
    let registryUrl: string | undefined;
    let registryContainer: Started | undefined;
    if (registryStart) {
      progress({ phase: 'stack', message: 'kafka ready; waiting for the schema registry' });
      registryContainer = await registryStart;
      containers.set('registry', registryContainer);
      registryUrl = `http://${host}:${ports.registry}/apis/ccompat/v7`;
    }
    const startSeconds = (Date.now() - started) / 1000;
    progress({ phase: 'stack', message: `ready in ${startSeconds.toFixed(1)} s`, fraction: 1 });

    const handles = new Map<number, BrokerHandle>();
    ids.forEach((id, i) => {
      const c = brokers[i]!;
      const dc = () => api.getContainer(c.getId());
      const other = () => ids.find((o) => o !== id && state.get(o) === 'running') ?? id;
      const h: BrokerHandle = {
        id,
        pid: 0,
        running: () => state.get(id) !== 'down',
        async kill() {
          state.set(id, 'down');
          await dc().kill({ signal: 'SIGKILL' });
          await dc().wait();
        },
        async pause() {
          if (state.get(id) !== 'running') return;
          await dc().pause();
          state.set(id, 'paused');
        },
        async resume() {
          if (state.get(id) !== 'paused') return;
          await dc().unpause();
          state.set(id, 'running');
        },
        async start() {
          if (state.get(id) !== 'down') return;
          await dc().start();
          state.set(id, 'running');
          await waitFor(
            `broker ${id} back in the cluster metadata`,
            async () => (await brokerIds(`${host}:${ports.brokers[ids.indexOf(other())]!.direct}`)).includes(id),
            { timeoutMs, intervalMs: 250, failFast: inspectDead },
          );
        },
        async stop() {
          if (state.get(id) === 'paused') await h.resume();
          state.set(id, 'down');
          await dc()
            .stop({ t: 30 })
            .catch(() => {});
        },
        async restart() {
          await h.stop();
          await h.start();
        },
      };
      handles.set(id, h);
    });

    let stopped = false;
    const startedAt = new Date(started).toISOString();
    const stack: StartedStack = {
      bootstrap,
      proxiedBootstrap,
      registryUrl,
      toxiproxy: client,
      ports,
      runtime: 'testcontainers',
      broker(id) {
        const h = handles.get(id);
        if (!h) throw new StreamproofError('USAGE', `broker:${id}: no such broker (this stack has ${n})`);
        return h;
      },
      deadParts: inspectDead,
      status: () => ({
        kafka: {
          version: versions.kafka,
          bootstrap,
          proxiedBootstrap,
          clusterId,
          brokers: ids.map((id, i) => ({
            id,
            direct: `${host}:${ports.brokers[i]!.direct}`,
            proxied: `${host}:${ports.brokers[i]!.proxy}`,
            proxy: proxyName(id),
            pid: 0,
            running: state.get(id) !== 'down',
            log: join(dir, `broker-${id}.log`),
            container: brokers[i]!.getId(),
          })),
        },
        toxiproxy: { api: toxiApi, pid: 0, version: versions.toxiproxy, container: toxi.getId() },
        registry: registryContainer
          ? { url: registryUrl!, pid: 0, version: versions.registry[0].version, container: registryContainer.getId() }
          : null,
        toolsClasspath: '',
        dir,
        startedAt,
        startSeconds,
        runtime: 'testcontainers',
        images,
      }),
      async stop() {
        if (stopped) return;
        stopped = true;
        await Promise.allSettled([...handles.values()].map((h) => h.resume()));
        await stopAll();
      },
      [Symbol.asyncDispose]() {
        return stack.stop();
      },
    };
    return stack;
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Docker's log stream without a TTY: 8-byte frame headers (stream, 0, 0, 0, length) before each chunk. */
function demux(buf: Buffer): string {
  const out: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length && buf[i]! <= 2 && buf[i + 1] === 0) {
    const len = buf.readUInt32BE(i + 4);
    out.push(buf.subarray(i + 8, i + 8 + len));
    i += 8 + len;
  }
  return i === 0 ? buf.toString('utf8') : Buffer.concat(out).toString('utf8');
}
