import { describe, expect, it } from 'vitest';
import { onlyPartitions } from './restore.ts';

describe('the restore reader assignment', () => {
  it('gives its own member only the partitions taken over, and any other member nothing', () => {
    const assign = onlyPartitions('changelog', [4, 1]);
    const members = new Map([
      ['me', { memberId: 'me', version: 0 }],
      ['stranger', { memberId: 'stranger', version: 0 }],
    ]);
    const out = assign('me', members, new Set(['changelog']), {} as never);
    const byMember = new Map(out.map((m) => [m.memberId, m.assignments.get('changelog')?.partitions]));
    expect(byMember.get('me')).toEqual([4, 1]);
    expect(byMember.get('stranger')).toEqual([]);
  });
});
