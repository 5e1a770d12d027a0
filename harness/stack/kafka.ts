/**
 * One KRaft Kafka node (combined broker + controller) as a local JVM.
 *
 * Listeners: DIRECT (the harness's own control and verification, also inter-broker), PROXIED (bound on a private
 * port that only its Toxiproxy proxy connects to, and advertised at that proxy's address), CONTROLLER. A client that
 * bootstraps on a proxy's address talks to the PROXIED listener, whose metadata names only proxy addresses, so every
 * later connection of that client (after metadata refresh, to any leader) also goes through Toxiproxy.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StreamproofError } from '../util/errors.ts';
import { exec, tail } from '../util/exec.ts';
import type { BrokerPorts } from './ports.ts';
import { launch, type ManagedProcess } from './process.ts';

export interface BrokerConfig {
  id: number;
  ports: BrokerPorts;
  /** Every node of the cluster: id and controller port. */
  voters: { id: number; controller: number }[];
  dir: string;
  clusterId: string;
  classpath: string;
  java: string;
  /** Extra server.properties entries (they win over ours). */
  overrides?: Record<string, string | number | boolean>;
  heap?: string;
}

export function serverProperties(c: BrokerConfig): Record<string, string | number | boolean> {
  const n = c.voters.length;
  const rf = Math.min(3, n);
  return {
    'process.roles': 'broker,controller',
    'node.id': c.id,
    'controller.quorum.voters': c.voters.map((v) => `${v.id}@127.0.0.1:${v.controller}`).join(','),
    listeners: `DIRECT://127.0.0.1:${c.ports.direct},PROXIED://127.0.0.1:${c.ports.listener},CONTROLLER://127.0.0.1:${c.ports.controller}`,
    'advertised.listeners': `DIRECT://127.0.0.1:${c.ports.direct},PROXIED://127.0.0.1:${c.ports.proxy}`,
    'listener.security.protocol.map': 'DIRECT:PLAINTEXT,PROXIED:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name': 'DIRECT',
    'controller.listener.names': 'CONTROLLER',
    'log.dirs': join(c.dir, 'data'),
    'num.partitions': 6,
    'default.replication.factor': rf,
    'min.insync.replicas': rf >= 3 ? 2 : 1,
    'offsets.topic.replication.factor': rf,
    'offsets.topic.num.partitions': 10,
    'transaction.state.log.replication.factor': rf,
    'transaction.state.log.min.isr': rf >= 3 ? 2 : 1,
    'transaction.state.log.num.partitions': 10,
    'share.coordinator.state.topic.replication.factor': rf,
    'share.coordinator.state.topic.min.isr': rf >= 3 ? 2 : 1,
    'group.initial.rebalance.delay.ms': 0,
    'unclean.leader.election.enable': false,
    'auto.create.topics.enable': true,
    // A test machine: keep segments small so retention and compaction are observable, and start fast.
    'log.segment.bytes': 64 * 1024 * 1024,
    'num.network.threads': 2,
    'num.io.threads': 4,
    'log.cleaner.dedupe.buffer.size': 8 * 1024 * 1024,
    ...c.overrides,
  };
}

const log4j2 = `status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = OUT
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.cleaner.name = kafka.log.LogCleaner
logger.cleaner.level = WARN
logger.raft.name = org.apache.kafka.raft
logger.raft.level = WARN
`;

function jvmArgs(c: BrokerConfig): string[] {
  return [
    `-Xms${c.heap ?? '256m'}`,
    `-Xmx${c.heap ?? '1g'}`,
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${join(c.dir, 'log4j2.properties')}`,
    `-Dkafka.logs.dir=${c.dir}`,
    '-cp',
    c.classpath,
  ];
}

/** Writes config and formats the storage (kafka.tools.StorageTool). Idempotent for an already formatted dir. */
export async function formatBroker(c: BrokerConfig): Promise<void> {
  mkdirSync(join(c.dir, 'data'), { recursive: true });
  const props = Object.entries(serverProperties(c))
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
  writeFileSync(join(c.dir, 'server.properties'), `${props}\n`);
  writeFileSync(join(c.dir, 'log4j2.properties'), log4j2);
  const res = await exec(c.java, [
    ...jvmArgs({ ...c, heap: '256m' }),
    '-XX:TieredStopAtLevel=1',
    'kafka.tools.StorageTool',
    'format',
    '--ignore-formatted',
    '-t',
    c.clusterId,
    '-c',
    join(c.dir, 'server.properties'),
  ]);
  if (res.code !== 0) {
    throw new StreamproofError(
      'STACK_START_FAILED',
      `formatting broker ${c.id} storage failed (exit ${res.code}):\n${tail(res.stdout + res.stderr)}`,
    );
  }
}

export function startBroker(c: BrokerConfig): Promise<ManagedProcess> {
  return launch({
    name: `broker:${c.id}`,
    command: c.java,
    args: [...jvmArgs(c), 'kafka.Kafka', join(c.dir, 'server.properties')],
    cwd: c.dir,
    logFile: join(c.dir, 'broker.log'),
  });
}
