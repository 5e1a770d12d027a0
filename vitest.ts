/**
 * `import 'streamproof/vitest'`: matchers on a run's result, registered with vitest's `expect.extend`.
 *
 *   const result = await run('scenarios/copy.json', { stack, sut: 'node copier.js' });
 *   expect(result).toBeExactlyOnce();   // nothing lost, duplicated or unexpected; the verdict not unknown
 *   expect(result).toKeepOrder();       // per-key order kept
 *   expect(result).toMeetSlo();         // every SLO threshold held
 *   expect(result).toPass();            // verdict "pass"
 *
 * Each also takes the path of a stored result.json. A failure lists the anomalies with a few examples, the seed, the
 * command that replays the run and the result.json path. `matchers` is exported for `expect.extend` by hand.
 */
import { expect } from 'vitest';
import { matchers } from './harness/vitest/matchers.ts';

expect.extend(matchers);

export {
  EXAMPLES,
  type MatcherOutcome,
  matchers,
  toBeExactlyOnce,
  toKeepOrder,
  toMeetSlo,
  toPass,
} from './harness/vitest/matchers.ts';

/** The matchers' types on vitest's `expect(...)`. */
export interface StreamproofMatchers<R = unknown> {
  /** Nothing lost, duplicated or unexpected, and the verdict is not unknown. */
  toBeExactlyOnce(): R;
  /** Per-key order kept in the output (no reordered record), and the verdict is not unknown. */
  toKeepOrder(): R;
  /** Every SLO threshold of the scenario held. */
  toMeetSlo(): R;
  /** Verdict "pass": every invariant held and every SLO was met. */
  toPass(): R;
}

// Merged into vitest's `Matchers`, which its `Assertion` (what `expect(x)` returns) extends: the form vitest >= 3.2
// documents. Merging into `Assertion` itself type-checks in this repository but not from the published .d.ts in a
// user's project (scripts/check-package.sh type-checks such a project).
declare module 'vitest' {
  // biome-ignore lint/suspicious/noExplicitAny: vitest's own declaration is Matchers<T = any>
  interface Matchers<T = any> extends StreamproofMatchers<T> {}
}
