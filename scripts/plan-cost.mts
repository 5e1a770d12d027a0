/**
 * What planning one attributor batch costs once users reach the touch cap: the model over every event, the changed
 * users' states serialised. Planning is synchronous, so this is how long a batch holds the attributor's event loop
 * (docs/soak/README.md, "Second attempt at ten million").
 *
 *   npx tsx scripts/plan-cost.mts [events 5000] [users 1700] [reps 5]
 *
 * Each user first folds 150 impressions and clicks (past the 100-touch cap); the batch then gives every user further
 * clicks, one event in ten a conversion. Prints each repetition's wall time and the median.
 */
import { type DecodedInput, planBatch } from '../reference-pipeline/attributor/batch-plan.ts';
import { percentiles } from '../reference-pipeline/bench-profile.ts';
import { applyEvent, createUserState, resolveOptions, type UserState } from '../reference-pipeline/model/index.ts';
import { click, conversion, impression, T0 } from '../reference-pipeline/model/test-support.ts';

const [events = 5000, userCount = 1700, reps = 5] = process.argv.slice(2).map(Number);
const options = resolveOptions({});
const name = (u: number) => `u${String(u).padStart(7, '0')}`;
const users = new Map<string, UserState>();
for (let u = 0; u < userCount; u++) {
  let s = createUserState();
  for (let i = 1; i <= 150; i++) {
    s = applyEvent(s, (i % 3 ? impression : click)(i, T0 + i * 1000, { user: name(u) }), options).state;
  }
  users.set(name(u), s);
}
const batch: DecodedInput[] = [];
for (let i = 0; i < events; i++) {
  const user = name(i % userCount);
  const seq = 200 + Math.floor(i / userCount);
  const e =
    i % 10 === 0 ? conversion(seq, T0 + seq * 1000, 100, 'USD', { user }) : click(seq, T0 + seq * 1000, { user });
  batch.push({
    topic: 'events',
    partition: 0,
    offset: BigInt(i),
    key: null,
    value: null,
    decoded: { ok: true, event: e as never },
  });
}
const ctx = { outputTopic: 'o', changelogTopic: 'c', dlqTopic: 'd', groupId: 'g', options };
const times: number[] = [];
for (let r = 0; r < reps; r++) {
  const t = performance.now();
  const plan = planBatch(batch, () => users, ctx)[0]!;
  times.push(performance.now() - t);
  const bytes = plan.changelog.reduce((a, m) => a + m.value.length, 0);
  console.log(
    `rep ${r + 1}: ${times[r]!.toFixed(0)} ms for ${events} events (${plan.attributions.length} attribution records, ${plan.states.size} states, ${bytes} changelog bytes)`,
  );
}
const median = percentiles(times).p50;
console.log(`median ${median.toFixed(0)} ms: ${((median / events) * 1000).toFixed(0)} us per event`);
