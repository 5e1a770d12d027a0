#!/usr/bin/env node
/**
 * Builds the example pipelines under examples/ from the package registries, with their ordinary clients:
 *
 *   node scripts/build-examples.mjs                 # all of them
 *   node scripts/build-examples.mjs java-copier     # some of them (names: the folders below)
 *   node scripts/build-examples.mjs --force         # rebuild even when up to date
 *   node scripts/build-examples.mjs --list
 *
 * Java examples: `mvn -q -B package` (compiles to target/classes, writes the runtime classpath to
 * target/classpath.txt; versions pinned in each pom.xml). Python: a venv in the example's `.venv` with its pinned
 * requirements.txt. Idempotent and cached: an example whose inputs (build files, sources, tool versions) hash to the
 * stamp of its last build is skipped. Progress goes to stderr; exit 1 when any build fails.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const examplesDir = join(root, 'examples');

/** name -> how it is built. `inputs` are hashed (files, or folders walked); `outputs` must exist after a build. */
const EXAMPLES = {
  'java-copier': { kind: 'maven', inputs: ['pom.xml', 'src'], outputs: ['target/classpath.txt', 'target/classes'] },
  'kafka-streams-copier': {
    kind: 'maven',
    inputs: ['pom.xml', 'src'],
    outputs: ['target/classpath.txt', 'target/classes'],
  },
  'kafka-streams-enrich': {
    kind: 'maven',
    inputs: ['pom.xml', 'src'],
    outputs: ['target/classpath.txt', 'target/classes'],
  },
  'kafka-streams-count': {
    kind: 'maven',
    inputs: ['pom.xml', 'src'],
    outputs: ['target/classpath.txt', 'target/classes'],
  },
  'kafka-tools-copier': { kind: 'maven', inputs: ['pom.xml'], outputs: ['target/classpath.txt'] },
  'python-copier': { kind: 'python', inputs: ['requirements.txt'], outputs: ['.venv/bin/python'] },
};

const STAMP = { maven: 'target/.streamproof-build', python: '.venv/.streamproof-build' };

function log(msg) {
  process.stderr.write(`[build-examples] ${msg}\n`);
}

function files(dir, rel) {
  const p = join(dir, rel);
  if (!existsSync(p)) return [];
  if (!statSync(p).isDirectory()) return [rel];
  return readdirSync(p)
    .sort()
    .flatMap((f) => files(dir, join(rel, f)));
}

function run(cmd, args, cwd) {
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: process.env, encoding: 'utf8' });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  // The child's output (quiet unless something fails) goes to our stderr, without the bare colour resets Debian's
  // Maven 3.8 prints even with -B.
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.replace(
    new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'),
    '',
  );
  if (out.trim()) process.stderr.write(out.endsWith('\n') ? out : `${out}\n`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal} (in ${cwd})`);
  return Date.now() - t0;
}

function toolVersion(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) return undefined;
  return `${r.stdout}${r.stderr}`.trim();
}

const toolVersions = {};
function tools(kind) {
  if (toolVersions[kind] === undefined) {
    if (kind === 'maven') {
      const mvn = toolVersion('mvn', ['-v']);
      const java = toolVersion('java', ['-version']);
      if (!mvn || !java)
        throw new Error('Maven and a JDK (>= 17) are needed: apt-get install maven openjdk-17-jdk-headless');
      toolVersions[kind] = `${mvn}\n${java}`;
    } else {
      const py = toolVersion('python3', ['--version']);
      if (!py) throw new Error('python3 is needed: apt-get install python3 python3-venv');
      toolVersions[kind] = py;
    }
  }
  return toolVersions[kind];
}

function inputsHash(dir, spec) {
  const h = createHash('sha256');
  h.update(tools(spec.kind));
  for (const f of spec.inputs.flatMap((i) => files(dir, i))) {
    h.update(`\0${f}\0`);
    h.update(readFileSync(join(dir, f)));
  }
  return h.digest('hex');
}

function build(name) {
  const spec = EXAMPLES[name];
  const dir = join(examplesDir, name);
  const stampFile = join(dir, STAMP[spec.kind]);
  const hash = inputsHash(dir, spec);
  const built = spec.outputs.every((o) => existsSync(join(dir, o)));
  if (built && existsSync(stampFile) && readFileSync(stampFile, 'utf8').trim() === hash) {
    log(`${name}: up to date`);
    return;
  }
  log(`${name}: building (${spec.kind})`);
  if (spec.kind === 'maven') {
    const ms = run('mvn', ['-q', '-B', '-Dstyle.color=never', 'package'], dir);
    log(`${name}: mvn package done in ${(ms / 1000).toFixed(1)} s`);
  } else {
    const venv = join(dir, '.venv');
    if (!existsSync(join(venv, 'bin', 'python'))) {
      rmSync(venv, { recursive: true, force: true });
      try {
        run('python3', ['-m', 'venv', venv], dir);
      } catch (err) {
        rmSync(venv, { recursive: true, force: true });
        throw new Error(`${err.message}; Debian needs the python3-venv package for this`);
      }
    }
    const ms = run(
      join(venv, 'bin', 'python'),
      ['-m', 'pip', 'install', '-q', '--disable-pip-version-check', '-r', 'requirements.txt'],
      dir,
    );
    log(`${name}: pip install done in ${(ms / 1000).toFixed(1)} s`);
  }
  const missing = spec.outputs.filter((o) => !existsSync(join(dir, o)));
  if (missing.length) throw new Error(`${name}: the build did not produce ${missing.join(', ')}`);
  writeFileSync(stampFile, `${hash}\n`);
  log(`${name}: built (${relative(root, dir)})`);
}

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write('usage: node scripts/build-examples.mjs [--force] [--list] [name...]\n');
  process.exit(0);
}
if (args.includes('--list')) {
  process.stdout.write(`${Object.keys(EXAMPLES).join('\n')}\n`);
  process.exit(0);
}
const force = args.includes('--force');
const names = args.filter((a) => !a.startsWith('--'));
const unknown = names.filter((n) => !(n in EXAMPLES));
if (unknown.length) {
  process.stderr.write(`unknown example(s): ${unknown.join(', ')}; known: ${Object.keys(EXAMPLES).join(', ')}\n`);
  process.exit(64);
}
let failed = 0;
const t0 = Date.now();
for (const name of names.length ? names : Object.keys(EXAMPLES)) {
  try {
    if (force) rmSync(join(examplesDir, name, STAMP[EXAMPLES[name].kind]), { force: true });
    build(name);
  } catch (err) {
    failed++;
    log(`${name}: FAILED: ${err.message}`);
  }
}
log(`${failed ? `${failed} failed` : 'all built'} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
process.exit(failed ? 1 : 0);
