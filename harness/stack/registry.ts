/**
 * Apicurio Registry (Quarkus) as a local JVM, in-memory H2 storage, its Confluent-compatible API at
 * `<url>` = http://127.0.0.1:P/apis/ccompat/v7 so Confluent clients work unchanged.
 */
import { join } from 'node:path';
import { launch, type ManagedProcess } from './process.ts';
import type { RegistryInstall } from './provision.ts';
import { httpOk, waitFor } from './wait.ts';

export interface StartedRegistry {
  process: ManagedProcess;
  /** Base URL of the Confluent-compatible API. */
  url: string;
  version: string;
}

export async function startRegistry(opts: {
  install: RegistryInstall;
  port: number;
  managementPort: number;
  dir: string;
}): Promise<StartedRegistry> {
  const proc = await launch({
    name: 'registry',
    command: opts.install.java,
    args: [
      '-Xms64m',
      '-Xmx384m',
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      '-Xss512k',
      '-XX:+ExitOnOutOfMemoryError',
      '-Dquarkus.http.host=127.0.0.1',
      `-Dquarkus.http.port=${opts.port}`,
      '-Dquarkus.management.host=127.0.0.1',
      `-Dquarkus.management.port=${opts.managementPort}`,
      '-Dapicurio.storage.kind=sql',
      '-Dapicurio.storage.sql.kind=h2',
      '-Dapicurio.datasource.url=jdbc:h2:mem:registry',
      '-Dquarkus.log.level=WARN',
      '-Dquarkus.banner.enabled=false',
      '-jar',
      opts.install.jar,
    ],
    cwd: opts.dir,
    logFile: join(opts.dir, 'registry.log'),
  });
  const url = `http://127.0.0.1:${opts.port}/apis/ccompat/v7`;
  await waitFor('schema registry', () => httpOk(`${url}/subjects`), {
    timeoutMs: 90_000,
    intervalMs: 100,
    failFast: () => (proc.running() ? undefined : `the schema registry exited on start:\n${proc.logTail()}`),
  });
  return { process: proc, url, version: opts.install.version };
}
