/**
 * Provisioning: fetch the real components into a cache, once.
 *
 * Model: each component is a directory `<cache>/<name>-<version>/` that is complete iff it holds `complete.json`
 * (written last, after an atomic rename of a fully built temp dir). A complete component is used as is: a second run
 * does no network work. Concurrent provisioners serialise on a lock directory. Versions come only from versions.ts.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StreamproofError } from '../util/errors.ts';
import { exec, tail } from '../util/exec.ts';
import { cacheRoot } from '../util/paths.ts';
import { type Progress, silent } from '../util/progress.ts';
import { findJava, type JavaRuntime } from './java.ts';
import { withLock } from './lock.ts';
import { kafkaMavenArtifacts, toxiproxyGoModule, versions } from './versions.ts';

export interface ComponentInfo {
  name: string;
  version: string;
  dir: string;
  provisionedAt: string;
  /** Seconds the download/build took when it happened (0 if it was already cached). */
  seconds: number;
  cached: boolean;
}

export interface KafkaInstall extends ComponentInfo {
  /** Directory with every runtime jar of the broker and of kafka-tools. */
  libs: string;
  /** A Java classpath (dir/*) on which kafka.Kafka, StorageTool and the tools run. */
  classpath: string;
}

export interface ToxiproxyInstall extends ComponentInfo {
  bin: string;
}

export function kafkaDir(): string {
  return join(cacheRoot(), `kafka-${versions.kafka}`);
}

export function toxiproxyDir(): string {
  return join(cacheRoot(), `toxiproxy-${versions.toxiproxy}`);
}

function readComplete(dir: string): ComponentInfo | undefined {
  const stamp = join(dir, 'complete.json');
  if (!existsSync(stamp)) return undefined;
  try {
    return JSON.parse(readFileSync(stamp, 'utf8')) as ComponentInfo;
  } catch {
    return undefined;
  }
}

/**
 * Build a component into a temp dir beside its final place, then rename: a killed provisioner leaves at most a
 * `.tmp-*` dir that the next run deletes, never a half-filled component that looks complete.
 */
async function provisionInto(
  name: string,
  version: string,
  dir: string,
  progress: Progress,
  build: (tmp: string) => Promise<void>,
): Promise<ComponentInfo> {
  const done = readComplete(dir);
  if (done) return { ...done, cached: true, seconds: 0 };
  mkdirSync(cacheRoot(), { recursive: true });
  return withLock(join(cacheRoot(), `.${name}.lock`), progress, async () => {
    const again = readComplete(dir);
    if (again) return { ...again, cached: true, seconds: 0 };
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    for (const stale of readdirSync(cacheRoot())) {
      if (stale.startsWith(`${name}-${version}.tmp-`))
        rmSync(join(cacheRoot(), stale), { recursive: true, force: true });
    }
    mkdirSync(tmp, { recursive: true });
    const started = Date.now();
    progress({ phase: 'provision', message: `${name} ${version}: fetching into ${dir}`, fraction: 0 });
    try {
      await build(tmp);
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      throw err;
    }
    const info: ComponentInfo = {
      name,
      version,
      dir,
      provisionedAt: new Date().toISOString(),
      seconds: (Date.now() - started) / 1000,
      cached: false,
    };
    writeFileSync(join(tmp, 'complete.json'), `${JSON.stringify(info, null, 2)}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
    progress({ phase: 'provision', message: `${name} ${version}: ready in ${info.seconds.toFixed(1)} s`, fraction: 1 });
    return info;
  });
}

function kafkaPom(): string {
  const deps = kafkaMavenArtifacts
    .map(
      (a) =>
        `    <dependency><groupId>${a.groupId}</groupId><artifactId>${a.artifactId}</artifactId><version>${a.version}</version></dependency>`,
    )
    .join('\n');
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>streamproof.provision</groupId>
  <artifactId>kafka</artifactId>
  <version>${versions.kafka}</version>
  <packaging>pom</packaging>
  <dependencies>
${deps}
  </dependencies>
</project>
`;
}

export async function provisionKafka(progress: Progress = silent): Promise<KafkaInstall> {
  const dir = kafkaDir();
  const info = await provisionInto('kafka', versions.kafka, dir, progress, async (tmp) => {
    writeFileSync(join(tmp, 'pom.xml'), kafkaPom());
    let fetched = 0;
    const res = await exec(
      'mvn',
      [
        '-B',
        '--no-transfer-progress',
        'dependency:copy-dependencies',
        `-DoutputDirectory=${join(tmp, 'libs')}`,
        '-DincludeScope=runtime',
        '-DexcludeTransitive=false',
      ],
      {
        cwd: tmp,
        onLine: (line) => {
          if (/Copying .*\.jar/.test(line)) {
            fetched++;
            if (fetched % 10 === 0) progress({ phase: 'provision', message: `kafka: ${fetched} jars in place` });
          }
        },
      },
    );
    if (res.code !== 0) {
      throw new StreamproofError(
        'PROVISION_FAILED',
        `Maven could not fetch Kafka ${versions.kafka} (exit ${res.code}). Check that Maven reaches its central repository, then run \`streamproof provision\` again.\n${tail(res.stdout + res.stderr)}`,
      );
    }
    const jars = readdirSync(join(tmp, 'libs'));
    for (const want of [`kafka_2.13-${versions.kafka}.jar`, `kafka-tools-${versions.kafka}.jar`]) {
      if (!jars.includes(want))
        throw new StreamproofError('PROVISION_FAILED', `Kafka provisioning did not yield ${want}`);
    }
    progress({ phase: 'provision', message: `kafka: ${jars.length} jars` });
  });
  const libs = join(dir, 'libs');
  return { ...info, libs, classpath: `${libs}/*` };
}

export async function provisionToxiproxy(progress: Progress = silent): Promise<ToxiproxyInstall> {
  const dir = toxiproxyDir();
  const info = await provisionInto('toxiproxy', versions.toxiproxy, dir, progress, async (tmp) => {
    progress({ phase: 'provision', message: `toxiproxy: go install ${toxiproxyGoModule}` });
    const res = await exec('go', ['install', toxiproxyGoModule], {
      env: { ...process.env, GOBIN: join(tmp, 'bin'), GOTOOLCHAIN: 'local', CGO_ENABLED: '0' },
      onLine: (line) => {
        if (line.startsWith('go: downloading'))
          progress({ phase: 'provision', message: `toxiproxy: ${line.slice(4)}` });
      },
    });
    if (res.code !== 0) {
      throw new StreamproofError(
        'PROVISION_FAILED',
        `go install of Toxiproxy ${versions.toxiproxy} failed (exit ${res.code}). Check that Go >= ${versions.minGo} reaches its module proxy.\n${tail(res.stderr)}`,
      );
    }
    renameSync(join(tmp, 'bin', 'server'), join(tmp, 'bin', 'toxiproxy-server'));
  });
  return { ...info, bin: join(dir, 'bin', 'toxiproxy-server') };
}

export interface RegistryInstall extends ComponentInfo {
  /** The runnable jar of the Quarkus application. */
  jar: string;
  java: string;
  javaMajor: number;
}

/** Picks the newest pinned registry whose Java requirement a local runtime meets. */
export async function chooseRegistry(): Promise<{ version: string; java: JavaRuntime }> {
  for (const r of versions.registry) {
    const java = await findJava(r.minJava);
    if (java) return { version: r.version, java };
  }
  throw new StreamproofError(
    'MISSING_TOOL',
    `no Java >= ${Math.min(...versions.registry.map((r) => r.minJava))} found for the schema registry; install OpenJDK 17 (apt-get install openjdk-17-jre-headless) or set STREAMPROOF_JAVA_HOME`,
  );
}

function findRunnableJar(dir: string): string | undefined {
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop()!;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory() && !['lib', 'app', 'quarkus'].includes(e.name)) stack.push(p);
      else if (e.isFile() && (e.name === 'quarkus-run.jar' || e.name.endsWith('-runner.jar'))) return p;
    }
  }
  return undefined;
}

export async function provisionRegistry(progress: Progress = silent): Promise<RegistryInstall> {
  const { version, java } = await chooseRegistry();
  const dir = join(cacheRoot(), `apicurio-registry-${version}`);
  const info = await provisionInto('apicurio-registry', version, dir, progress, async (tmp) => {
    writeFileSync(
      join(tmp, 'pom.xml'),
      `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion><groupId>streamproof.provision</groupId><artifactId>registry</artifactId><version>${version}</version><packaging>pom</packaging></project>\n`,
    );
    progress({
      phase: 'provision',
      message: `apicurio-registry ${version}: downloading its distribution (about 160 MB)`,
    });
    const res = await exec(
      'mvn',
      [
        '-B',
        '--no-transfer-progress',
        'dependency:unpack',
        `-Dartifact=io.apicurio:apicurio-registry-app:${version}:tar.gz:all`,
        `-DoutputDirectory=${join(tmp, 'app')}`,
      ],
      { cwd: tmp },
    );
    if (res.code !== 0 || !findRunnableJar(join(tmp, 'app'))) {
      throw new StreamproofError(
        'PROVISION_FAILED',
        `Maven could not fetch Apicurio Registry ${version} (exit ${res.code}).\n${tail(res.stdout + res.stderr)}`,
      );
    }
  });
  const jar = findRunnableJar(join(dir, 'app'));
  if (!jar) throw new StreamproofError('PROVISION_FAILED', `no runnable jar under ${dir}; delete it and run again`);
  return { ...info, jar, java: java.bin, javaMajor: java.major };
}

export async function provisionAll(progress: Progress = silent): Promise<{
  kafka: KafkaInstall;
  toxiproxy: ToxiproxyInstall;
  registry: RegistryInstall;
}> {
  // Maven runs are serialised (they share ~/.m2 and two cores); the Go build runs beside them.
  const toxiproxy = provisionToxiproxy(progress);
  const kafka = await provisionKafka(progress);
  const registry = await provisionRegistry(progress);
  return { kafka, toxiproxy: await toxiproxy, registry };
}
