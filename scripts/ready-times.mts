// Time to ready of each stack runtime, side by side in one run: `node --import tsx scripts/ready-times.mts [runs]`.
// Each start is a fresh stack (1 and 3 brokers, with the registry), stopped before the next. The testcontainers
// runtime uses the images named by STREAMPROOF_*_IMAGE (or the projects' own); docs/containers.md keeps the results.
import { type StackRuntime, startStack } from '../harness/stack/stack.ts';

const runs = Number(process.argv[2] ?? 2);
const rows: string[] = [];
for (const runtime of ['local', 'testcontainers'] as StackRuntime[]) {
  for (const brokers of [1, 3] as const) {
    const ready: number[] = [];
    const stop: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = Date.now();
      const stack = await startStack({ runtime, brokers });
      ready.push((Date.now() - t0) / 1000);
      const t1 = Date.now();
      await stack.stop();
      stop.push((Date.now() - t1) / 1000);
    }
    const f = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(' / ');
    rows.push(`| ${runtime} | ${brokers} | ${f(ready)} s | ${f(stop)} s |`);
    console.error(rows.at(-1));
  }
}
console.log('| runtime | brokers | ready (each run) | stopped (each run) |\n|---|---|---|---|');
console.log(rows.join('\n'));
