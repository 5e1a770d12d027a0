#!/usr/bin/env bash
# The published package, checked the way a user gets it: `npm pack` (prepack builds dist/), the tarball installed
# into an empty project with vitest, and there:
#   - the read_committed fix of @platformatic/kafka is in the copy streamproof resolves (its own, bundled), and
#     nothing was written into the project's node_modules outside streamproof;
#   - the declarations type-check a user's test file (`expect(result).toBeExactlyOnce()` included);
#   - `npx streamproof --help`, and `npx streamproof run` of a .ts scenario (defineScenario from 'streamproof')
#     against a small copy pipeline: exit 0;
#   - a vitest file that starts a stack and `run`s the copy pipeline: `toBeExactlyOnce()` passes, and the bundled
#     client reads only the committed one of three transactions (two aborted) of one producer;
#   - a vitest file that runs a pipeline dropping every 20th record: `toBeExactlyOnce()` fails naming `lost`.
# Ends with "package check: N passed, N failed"; exit 1 when anything failed. A few minutes: three stack starts
# (one per vitest file, one for the CLI run), 4 s of load each.
#
#   bash scripts/check-package.sh            # KEEP=1 keeps the temporary project and prints where it is
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
started=$(date +%s)
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
ko() { failed=$((failed + 1)); echo "FAIL $1"; }
check() { # check NAME COMMAND...: runs the command, its output in $work/logs/NAME.log (shown when it fails)
  local name=$1
  shift
  local log="$work/logs/$(echo "$name" | tr -c 'A-Za-z0-9\n' '-').log"
  if "$@" >"$log" 2>&1; then ok "$name"; else
    ko "$name (exit $?)"
    tail -n 40 "$log" | sed 's/^/     /'
  fi
}
finish() {
  echo "package check: $passed passed, $failed failed ($(($(date +%s) - started)) s)"
  [ "$failed" -eq 0 ]
}

work=$(mktemp -d "${TMPDIR:-/tmp}/streamproof-package.XXXXXX")
mkdir -p "$work/logs" "$work/pack" "$work/app"
if [ "${KEEP:-0}" = 1 ]; then echo "keeping $work"; else trap 'rm -rf "$work"' EXIT; fi

echo "== npm pack (prepack: patch check + build)"
if ! npm pack --silent --pack-destination "$work/pack" >"$work/logs/pack.log" 2>&1; then
  ko "npm pack"
  tail -n 40 "$work/logs/pack.log"
  finish
  exit 1
fi
tarball=$(ls "$work"/pack/streamproof-*.tgz)
ok "npm pack: $(basename "$tarball") ($(du -k "$tarball" | cut -f1) KiB)"
check "tarball carries the patched @platformatic/kafka and no tests" bash -c "
  tar -xzOf '$tarball' package/node_modules/@platformatic/kafka/dist/clients/consumer/consumer.js | grep -q 'streamproof-patch: aborted-transactions-v2' &&
  ! tar -tzf '$tarball' | grep -v '^package/node_modules/' | grep -E '\\.test\\.|/test/|__snapshots__|fixtures'"

echo "== install into an empty project"
cd "$work/app"
npm init -y >/dev/null
vitest_version=$(node -p "require('$root/node_modules/vitest/package.json').version")
ts_version=$(node -p "require('$root/node_modules/typescript/package.json').version")
types_node=$(node -p "require('$root/node_modules/@types/node/package.json').version")
if ! npm install --no-audit --no-fund --prefer-offline "$tarball" "vitest@$vitest_version" \
  "typescript@$ts_version" "@types/node@$types_node" >"$work/logs/install.log" 2>&1; then
  ko "npm install <tarball> vitest"
  tail -n 40 "$work/logs/install.log"
  finish
  exit 1
fi
ok "npm install <tarball> vitest typescript @types/node"
node -e "const p=require('./package.json'); p.type='module'; require('fs').writeFileSync('package.json', JSON.stringify(p, null, 2))"

check "read_committed fix: streamproof resolves its own patched @platformatic/kafka; the project's node_modules untouched" node --input-type=module -e "
  import { createRequire } from 'node:module';
  import { readFileSync, existsSync } from 'node:fs';
  import { join, dirname } from 'node:path';
  const sp = createRequire(join(process.cwd(), 'package.json')).resolve('streamproof');
  const main = createRequire(sp).resolve('@platformatic/kafka');
  const want = join(process.cwd(), 'node_modules/streamproof/node_modules/@platformatic/kafka/');
  if (!main.startsWith(want)) throw new Error('streamproof resolves @platformatic/kafka at ' + main + ', not its bundled copy');
  const consumer = join(dirname(main), 'clients/consumer/consumer.js');
  if (!readFileSync(consumer, 'utf8').includes('streamproof-patch: aborted-transactions-v2')) throw new Error(consumer + ': not patched');
  const top = 'node_modules/@platformatic/kafka/dist/clients/consumer/consumer.js';
  if (existsSync(top) && readFileSync(top, 'utf8').includes('streamproof-patch')) throw new Error(top + ' was patched');
  console.log('bundled and patched:', consumer);
"

# The pipeline under test: reads the input, writes every record to the output (same key, value, partition), commits
# after the write (at least once). COPIER_DROP_EVERY=N drops every Nth record by offset and commits anyway (broken).
# It uses the @platformatic/kafka that streamproof depends on.
cat >copier.mjs <<'EOF'
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const sp = createRequire(join(import.meta.dirname, 'package.json')).resolve('streamproof');
const { Consumer, Producer } = await import(pathToFileURL(createRequire(sp).resolve('@platformatic/kafka')).href);
const env = process.env;
const dropEvery = Number(env.COPIER_DROP_EVERY ?? 0);
const bootstrapBrokers = [env.STREAMPROOF_BOOTSTRAP_SERVERS];
const consumer = new Consumer({
  clientId: `copier-${env.STREAMPROOF_INSTANCE}`,
  groupId: env.STREAMPROOF_GROUP_ID,
  bootstrapBrokers,
  isolationLevel: 1,
  maxWaitTime: 50,
  autocommit: false,
});
const producer = new Producer({ clientId: 'copier', bootstrapBrokers, idempotent: true, acks: -1, retryDelay: 50 });
const stop = async () => {
  await Promise.allSettled([consumer.close(true), producer.close(true)]);
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
const stream = await consumer.consume({
  topics: [env.STREAMPROOF_INPUT_TOPIC],
  mode: 'committed',
  fallbackMode: 'earliest',
  autocommit: false,
});
let batch = [];
let busy = false;
setInterval(async () => {
  if (busy || batch.length === 0) return;
  busy = true;
  const b = batch;
  batch = [];
  const keep = dropEvery > 0 ? b.filter((m) => Number(m.offset) % dropEvery !== dropEvery - 1) : b;
  if (keep.length > 0) {
    await producer.send({
      messages: keep.map((m) => ({ topic: env.STREAMPROOF_OUTPUT_TOPIC, key: m.key, value: m.value, partition: m.partition })),
    });
  }
  const last = new Map();
  for (const m of b) last.set(m.partition, m);
  for (const m of last.values()) await m.commit();
  busy = false;
}, 50);
for await (const m of stream) batch.push(m);
EOF

cat >scenario.ts <<'EOF'
import { defineScenario } from 'streamproof';

export default defineScenario({
  name: 'package-copy',
  sut: { command: `node ${import.meta.dirname}/copier.mjs`, contract: 'copy', instances: 1 },
  stack: { brokers: 1, partitions: 3, registry: false },
  events: { format: 'json', users: 200, seed: 7 },
  load: { rate: 300, duration: '4s' },
  slo: { e2e_latency: ['p(95)<10s'] },
  drain: { quiet: '2s', timeout: '60s' },
});
EOF

mkdir -p test
cat >test/copy.test.ts <<'EOF'
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadScenario, run, type StartedStack, startStack } from 'streamproof';
import 'streamproof/vitest';
import { afterAll, beforeAll, expect, it } from 'vitest';

let stack: StartedStack;
beforeAll(async () => {
  stack = await startStack({ brokers: 1, registry: false });
}, 180_000);
afterAll(async () => {
  await stack?.stop();
});

it('a copy pipeline is exactly once, in order, within its SLO', async () => {
  const { scenario } = await loadScenario(join(import.meta.dirname, '..', 'scenario.ts'));
  const result = await run(scenario, { stack, outDir: join(import.meta.dirname, '..', 'out', 'copy') });
  expect(result).toBeExactlyOnce();
  expect(result).toKeepOrder();
  expect(result).toMeetSlo();
  expect(result).toPass();
  expect(result.counts.observed).toBe(result.counts.acked);
  expect(result.files.result).toMatch(/result\.json$/);
}, 180_000);

it("read_committed through streamproof's @platformatic/kafka: two aborted transactions of one producer skipped", async () => {
  const sp = createRequire(join(process.cwd(), 'package.json')).resolve('streamproof');
  const { Admin, Consumer, Producer, stringDeserializers, stringSerializers } = await import(
    pathToFileURL(createRequire(sp).resolve('@platformatic/kafka')).href
  );
  const topic = `rc-${randomUUID()}`;
  const admin = new Admin({ clientId: 'rc', bootstrapBrokers: [stack.bootstrap] });
  await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 });
  await admin.close();
  const producer = new Producer({
    clientId: 'rc',
    bootstrapBrokers: [stack.bootstrap],
    serializers: stringSerializers,
    idempotent: true,
    acks: -1,
    transactionalId: `rc-${randomUUID()}`,
    producerId: -1n,
    producerEpoch: -1,
    retryDelay: 50,
  });
  for (const [name, end] of [['aborted-1', 'abort'], ['aborted-2', 'abort'], ['committed', 'commit']]) {
    const tx = await producer.beginTransaction();
    await tx.send({ messages: Array.from({ length: 5 }, (_, i) => ({ topic, key: 'k', value: `${name}-${i}` })) });
    if (end === 'abort') await tx.abort();
    else await tx.commit();
  }
  await producer.close(true);
  const consumer = new Consumer({
    clientId: 'rc',
    groupId: `rc-${randomUUID()}`,
    bootstrapBrokers: [stack.bootstrap],
    deserializers: stringDeserializers,
    maxWaitTime: 200,
  });
  const got: string[] = [];
  const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false, isolationLevel: 1 });
  const timer = setTimeout(() => void stream.close(), 6000);
  for await (const m of stream) got.push(m.value as string);
  clearTimeout(timer);
  await consumer.close(true);
  expect(got).toEqual(['committed-0', 'committed-1', 'committed-2', 'committed-3', 'committed-4']);
}, 60_000);
EOF

cat >test/dropping.test.ts <<'EOF'
import { join } from 'node:path';
import { run, type ScenarioInput, type StartedStack, startStack } from 'streamproof';
import 'streamproof/vitest';
import { afterAll, beforeAll, expect, it } from 'vitest';

let stack: StartedStack;
beforeAll(async () => {
  stack = await startStack({ brokers: 1, registry: false });
}, 180_000);
afterAll(async () => {
  await stack?.stop();
});

const dropping: ScenarioInput = {
  name: 'package-dropping',
  sut: {
    command: `node ${join(import.meta.dirname, '..', 'copier.mjs')}`,
    contract: 'copy',
    env: { COPIER_DROP_EVERY: '20' },
  },
  stack: { brokers: 1, partitions: 3, registry: false },
  events: { format: 'json', users: 200, seed: 7 },
  load: { rate: 300, duration: '4s' },
  drain: { quiet: '2s', timeout: '60s' },
};

it('a pipeline that drops records fails toBeExactlyOnce, naming what was lost, the seed and the replay', async () => {
  const result = await run(dropping, { stack, outDir: join(import.meta.dirname, '..', 'out', 'dropping') });
  expect(result.verdict).toBe('fail');
  expect(result).not.toBeExactlyOnce();
  expect(() => expect(result).toBeExactlyOnce()).toThrow(/lost: \d+ \(e\.g\. /);
  expect(() => expect(result).toBeExactlyOnce()).toThrow(/seed: 7\n  replay: streamproof run /);
  expect(() => expect(result).toPass()).toThrow(/result: .*result\.json/);
  expect(result).toKeepOrder();
}, 180_000);
EOF

cat >tsconfig.json <<'EOF'
{
  "compilerOptions": {
    "target": "ES2022",
    "lib": ["ES2023", "ESNext.Disposable"],
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "strict": true,
    "noEmit": true,
    "skipLibCheck": true,
    "types": ["node"]
  },
  "include": ["test", "scenario.ts"]
}
EOF

echo "== checks in $work/app"
check "types: a user's test files type-check against the published declarations" npx tsc -p tsconfig.json
check "npx streamproof --help" npx streamproof --help
check "npx streamproof run scenario.ts (a .ts scenario, the copy pipeline): exit 0" \
  npx streamproof run scenario.ts --out out/cli
check "vitest: startStack + run + toBeExactlyOnce; read_committed on the bundled client" \
  npx vitest run test/copy.test.ts
check "vitest: a dropping pipeline fails toBeExactlyOnce with 'lost'" npx vitest run test/dropping.test.ts

finish
