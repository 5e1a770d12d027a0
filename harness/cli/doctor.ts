/**
 * `streamproof doctor`: what this machine has, what the cache holds, and for each problem the command that fixes it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { readState } from '../stack/daemon.ts';
import { type ImagesReport, probeDocker } from '../stack/docker-probe.ts';
import { allJavas } from '../stack/java.ts';
import { allPorts, layout, portFree } from '../stack/ports.ts';
import { kafkaDir, toxiproxyDir } from '../stack/provision.ts';
import { versions } from '../stack/versions.ts';
import { exec } from '../util/exec.ts';
import { cacheRoot, stateRoot } from '../util/paths.ts';
import { intFlag, parse } from './args.ts';
import type { Command } from './command.ts';
import { output } from './command.ts';

export interface Check {
  name: string;
  ok: boolean;
  /** A missing optional tool is a warning, not a failure. */
  required: boolean;
  detail: string;
  fix?: string;
}

/** A way to run the stack (scenario `stack.runtime`), and whether this machine can. */
export interface Runtime {
  name: 'local' | 'testcontainers' | 'external';
  available: boolean;
  detail: string;
  fix?: string;
}

export interface DoctorReport {
  ok: boolean;
  checks: Check[];
  runtimes: Runtime[];
  cache: string;
  state: string;
}

function cmpVersion(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

async function version(cmd: string, args: string[], re: RegExp): Promise<string | undefined> {
  try {
    const r = await exec(cmd, args, { timeoutMs: 20_000 });
    // biome-ignore lint/suspicious/noControlCharactersInRegex: strip ANSI colour codes some tools print
    return re.exec((r.stdout + r.stderr).replace(/\x1b\[[0-9;]*m/g, ''))?.[1];
  } catch {
    return undefined;
  }
}

function cached(dir: string): boolean {
  return existsSync(join(dir, 'complete.json'));
}

/** The testcontainers package, importable from here (an optional dependency): its version, or why not. */
async function testcontainersPackage(): Promise<{ ok: true; version: string } | { ok: false; error: string }> {
  try {
    await import('testcontainers');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { ok: false, error: e.code === 'ERR_MODULE_NOT_FOUND' ? 'not installed' : `cannot import: ${e.message}` };
  }
  try {
    return { ok: true, version: createRequire(import.meta.url)('testcontainers/package.json').version };
  } catch {
    return { ok: true, version: '(version unknown)' };
  }
}

function imagesSummary(r: ImagesReport): string {
  const count = (p: Record<string, boolean>) => Object.values(p).filter(Boolean).length;
  if (r.ok) return 'images present';
  return `${count(r.present)} of 3 images present locally (streamproof-local/*: ${count(r.localPresent)} of 3)`;
}

/** `stack.runtime: "testcontainers"`: the package, a reachable Docker engine, and (a warning only) the images. */
async function testcontainersRuntime(checks: Check[]): Promise<Runtime> {
  const [pkg, docker] = await Promise.all([testcontainersPackage(), probeDocker()]);
  const pkgFix = 'npm install testcontainers';
  checks.push({
    name: 'testcontainers:package',
    ok: pkg.ok,
    required: false,
    detail: pkg.ok
      ? `testcontainers ${pkg.version}`
      : `testcontainers ${pkg.error} (optional: the testcontainers runtime)`,
    fix: pkgFix,
  });
  const { engine, images } = docker;
  const engineDetail = engine.reachable
    ? `Docker ${engine.version} (API ${engine.apiVersion ?? '?'}) at ${engine.endpoint}`
    : `no Docker engine at ${engine.endpoint}: ${engine.error}`;
  checks.push({
    name: 'testcontainers:docker',
    ok: engine.reachable,
    required: false,
    detail: engineDetail,
    fix: engine.fix,
  });
  if (images)
    checks.push({
      name: 'testcontainers:images',
      ok: images.ok,
      required: false,
      detail: images.detail,
      fix: images.fix,
    });
  const fixes = [pkg.ok ? undefined : pkgFix, engine.reachable ? undefined : engine.fix, images?.fix].filter(
    (f): f is string => !!f,
  );
  const parts = [
    pkg.ok ? `testcontainers ${pkg.version}` : `testcontainers ${pkg.error}`,
    engine.reachable
      ? `Docker ${engine.version} (API ${engine.apiVersion ?? '?'})`
      : `no Docker engine (${engine.error})`,
    ...(images ? [imagesSummary(images)] : []),
  ];
  return {
    name: 'testcontainers',
    available: pkg.ok && engine.reachable,
    detail: parts.join('; '),
    ...(fixes.length ? { fix: fixes.join('; ') } : {}),
  };
}

export async function doctor(portBase?: number): Promise<DoctorReport> {
  const checks: Check[] = [];
  const node = process.versions.node;
  checks.push({
    name: 'node',
    ok: cmpVersion(node, versions.minNode) >= 0,
    required: true,
    detail: `Node ${node} (need >= ${versions.minNode})`,
    fix: 'install Node.js 22.22+, 24 or 26 (docs/decisions/runtime.md)',
  });
  const javas = await allJavas();
  const kafkaJava = javas.find((j) => j.major >= versions.minJava);
  checks.push({
    name: 'java',
    ok: !!kafkaJava,
    required: true,
    detail: kafkaJava
      ? `${kafkaJava.bin} (Java ${kafkaJava.version}) runs Kafka ${versions.kafka}`
      : `no Java >= ${versions.minJava} (found: ${javas.map((j) => j.version).join(', ') || 'none'})`,
    fix: 'apt-get install openjdk-17-jre-headless (or set STREAMPROOF_JAVA_HOME)',
  });
  const best = versions.registry[0];
  const regJava = javas.find((j) => j.major >= best.minJava);
  checks.push({
    name: 'java-for-registry',
    ok: !!regJava,
    required: false,
    detail: regJava
      ? `${regJava.bin} (Java ${regJava.version}) runs Apicurio Registry ${best.version}`
      : `no Java >= ${best.minJava}: the registry falls back to Apicurio ${versions.registry[1]?.version} on Java 17 (slower start)`,
    fix: `install a JDK >= ${best.minJava} and set STREAMPROOF_JAVA_HOME to it`,
  });
  const kafkaCached = cached(kafkaDir());
  const mvn = await version('mvn', ['-v'], /Apache Maven (\S+)/);
  checks.push({
    name: 'maven',
    ok: !!mvn || kafkaCached,
    required: !kafkaCached,
    detail: mvn
      ? `Maven ${mvn}`
      : kafkaCached
        ? 'not found (not needed: Kafka is already cached)'
        : 'not found: needed to fetch Kafka and the registry',
    fix: 'apt-get install maven',
  });
  const toxiCached = cached(toxiproxyDir());
  const go = await version('go', ['version'], /go version go(\S+)/);
  checks.push({
    name: 'go',
    ok: toxiCached || (!!go && cmpVersion(go, versions.minGo) >= 0),
    required: !toxiCached,
    detail: go
      ? `Go ${go}`
      : toxiCached
        ? 'not found (not needed: Toxiproxy is already built)'
        : `not found: needed to build Toxiproxy ${versions.toxiproxy}`,
    fix: `install Go >= ${versions.minGo} (apt-get install golang-go)`,
  });
  for (const [name, dir] of [
    ['cache:kafka', kafkaDir()],
    ['cache:toxiproxy', toxiproxyDir()],
    ...versions.registry.map((r) => [
      `cache:apicurio-registry-${r.version}`,
      join(cacheRoot(), `apicurio-registry-${r.version}`),
    ]),
  ] as const) {
    const done = cached(dir);
    if (!done && name === `cache:apicurio-registry-${versions.registry[1]?.version}` && regJava) continue; // fallback not needed
    let when = '';
    if (done) when = ` (since ${JSON.parse(readFileSync(join(dir, 'complete.json'), 'utf8')).provisionedAt})`;
    checks.push({
      name,
      ok: true,
      required: false,
      detail: done ? `provisioned at ${dir}${when}` : `not provisioned yet (the first stack start fetches it)`,
      fix: done ? undefined : 'streamproof provision',
    });
  }
  // The local runtime: Java for Kafka, and the provisioning cache complete (the registry the Javas found will run).
  const registryUsed = regJava ? best : (versions.registry[1] ?? best);
  const missing = [
    kafkaCached ? undefined : `Kafka ${versions.kafka}`,
    toxiCached ? undefined : `Toxiproxy ${versions.toxiproxy}`,
    cached(join(cacheRoot(), `apicurio-registry-${registryUsed.version}`))
      ? undefined
      : `Apicurio Registry ${registryUsed.version}`,
  ].filter((m): m is string => !!m);
  const localFixes = [
    kafkaJava ? undefined : 'apt-get install openjdk-17-jre-headless (or set STREAMPROOF_JAVA_HOME)',
    missing.length ? 'streamproof provision (needs Maven and Go; else the first stack start fetches it)' : undefined,
  ].filter((f): f is string => !!f);
  const runtimes: Runtime[] = [
    {
      name: 'local',
      available: !!kafkaJava && !missing.length,
      detail: [
        kafkaJava ? `Java ${kafkaJava.version}` : `no Java >= ${versions.minJava}`,
        missing.length
          ? `not provisioned: ${missing.join(', ')}`
          : `Kafka ${versions.kafka}, Toxiproxy ${versions.toxiproxy}, Apicurio Registry ${registryUsed.version} provisioned`,
      ].join('; '),
      ...(localFixes.length ? { fix: localFixes.join('; ') } : {}),
    },
    await testcontainersRuntime(checks),
    {
      name: 'external',
      available: true,
      detail:
        'stack.external or --bootstrap-servers: nothing to install; needs the cluster reachable from this machine',
    },
  ];
  const kcat = await version('kcat', ['-V'], /Version (\S+)/);
  checks.push({
    name: 'kcat',
    ok: !!kcat,
    required: false,
    detail: kcat
      ? `kcat ${kcat} (optional outside client)`
      : 'not found (optional: an outside client for by-hand checks)',
    fix: 'apt-get install kcat',
  });
  const running = readState();
  checks.push({
    name: 'stack',
    ok: true,
    required: false,
    detail: running
      ? `a stack is running (supervisor pid ${running.supervisorPid}, bootstrap ${running.status.kafka.bootstrap})`
      : 'no stack running',
  });
  if (portBase !== undefined) {
    const taken: number[] = [];
    for (const p of allPorts(layout(portBase, 3))) if (!(await portFree(p))) taken.push(p);
    checks.push({
      name: 'ports',
      ok: taken.length === 0,
      required: true,
      detail: taken.length
        ? `taken in the --port-base ${portBase} layout: ${taken.join(', ')}`
        : `the --port-base ${portBase} layout is free`,
      fix: 'choose another --port-base, or leave it out to let the OS pick free ports',
    });
  } else {
    checks.push({
      name: 'ports',
      ok: true,
      required: false,
      detail: 'stacks pick free ports (pass --port-base N to check a fixed layout)',
    });
  }
  return {
    ok: checks.every((c) => c.ok || !c.required),
    checks,
    runtimes,
    cache: cacheRoot(),
    state: stateRoot(),
  };
}

export const doctorCommand: Command = {
  name: 'doctor',
  usage: 'doctor [--port-base N] [--json]',
  async run(argv) {
    const { values } = parse(
      argv,
      { json: { type: 'boolean' }, 'port-base': { type: 'string' } },
      `streamproof ${doctorCommand.usage}`,
    );
    const report = await doctor(
      intFlag('port-base', values['port-base'] as string | undefined, { min: 1024, max: 65_000 }),
    );
    const out = output(!!values.json);
    if (out.json) out.data(report);
    else {
      for (const c of report.checks) {
        const mark = c.ok ? 'ok  ' : c.required ? 'FAIL' : 'warn';
        out.print(`${mark} ${c.name.padEnd(34)} ${c.detail}${!c.ok && c.fix ? `\n     fix: ${c.fix}` : ''}`);
      }
      out.print('runtimes');
      for (const r of report.runtimes)
        out.print(
          `  ${r.name.padEnd(15)} ${(r.available ? 'available' : 'unavailable').padEnd(11)} ${r.detail}` +
            (r.fix ? `\n     fix: ${r.fix}` : ''),
        );
      out.print(`cache ${report.cache}\nstate ${report.state}`);
    }
    return report.ok ? 0 : 3;
  },
};
