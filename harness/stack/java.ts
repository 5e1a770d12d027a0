/**
 * Finding a Java runtime of at least a given major version: Kafka 4.1 needs 17, Apicurio Registry 3.3 needs 21.
 * Looks at $STREAMPROOF_JAVA_HOME, $JAVA_HOME, `java` on PATH, then every JDK under /usr/lib/jvm.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { exec } from '../util/exec.ts';

export interface JavaRuntime {
  bin: string;
  major: number;
  version: string;
}

const cache = new Map<string, JavaRuntime | undefined>();

async function probe(bin: string): Promise<JavaRuntime | undefined> {
  if (cache.has(bin)) return cache.get(bin);
  let rt: JavaRuntime | undefined;
  try {
    const res = await exec(bin, ['-version']);
    const m = /version "([^"]+)"/.exec(res.stderr + res.stdout);
    if (res.code === 0 && m?.[1]) {
      const v = m[1];
      const parts = v.split('.');
      const major = parts[0] === '1' ? Number(parts[1]) : Number.parseInt(parts[0] ?? '', 10);
      rt = { bin, major, version: v };
    }
  } catch {
    rt = undefined;
  }
  cache.set(bin, rt);
  return rt;
}

export function javaCandidates(): string[] {
  const out: string[] = [];
  for (const home of [process.env.STREAMPROOF_JAVA_HOME, process.env.JAVA_HOME]) {
    if (home) out.push(join(home, 'bin', 'java'));
  }
  out.push('java');
  const jvm = '/usr/lib/jvm';
  if (existsSync(jvm)) {
    for (const d of readdirSync(jvm).sort().reverse()) {
      const bin = join(jvm, d, 'bin', 'java');
      if (existsSync(bin)) out.push(bin);
    }
  }
  return [...new Set(out)];
}

/** The first runtime (in candidate order) with major >= min and, when given, < below. */
export async function findJava(min: number, below = Number.POSITIVE_INFINITY): Promise<JavaRuntime | undefined> {
  for (const bin of javaCandidates()) {
    const rt = await probe(bin);
    if (rt && rt.major >= min && rt.major < below) return rt;
  }
  return undefined;
}

export async function allJavas(): Promise<JavaRuntime[]> {
  const found: JavaRuntime[] = [];
  for (const bin of javaCandidates()) {
    const rt = await probe(bin);
    if (rt) found.push(rt);
  }
  return found;
}
