/**
 * SUT readiness for consumer-based pipelines: its consumer group is Stable and its members' assignments cover every
 * input partition. Only then does load start, so the first events are not measured against a pipeline still booting.
 */
import { admin } from '../kafka/clients.ts';
import { waitFor } from '../stack/wait.ts';
import type { StreamproofError } from '../util/errors.ts';

export async function groupCovers(
  bootstrap: string,
  groupId: string,
  topic: string,
  partitions: number,
): Promise<boolean> {
  const a = admin(bootstrap, 'streamproof-ready');
  try {
    const groups = await a.describeGroups({ groups: [groupId] });
    const g = groups.get(groupId);
    if (!g || String(g.state).toUpperCase() !== 'STABLE') return false;
    const owned = new Set<number>();
    for (const m of g.members.values()) {
      for (const [t, asg] of m.assignments ?? []) if (t === topic) for (const p of asg.partitions) owned.add(p);
    }
    return owned.size >= partitions;
  } finally {
    await a.close();
  }
}

export async function waitForGroup(
  bootstrap: string,
  groupId: string,
  topic: string,
  partitions: number,
  opts: { timeoutMs: number; failFast?: () => StreamproofError | undefined },
): Promise<void> {
  await waitFor(
    `the SUT's consumer group ${groupId} owning all ${partitions} partitions of ${topic}`,
    () => groupCovers(bootstrap, groupId, topic, partitions),
    {
      timeoutMs: opts.timeoutMs,
      intervalMs: 250,
      failFast: () => {
        const err = opts.failFast?.();
        if (err) throw err;
        return undefined;
      },
    },
  );
}
