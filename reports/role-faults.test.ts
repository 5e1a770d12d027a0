import { describe, expect, it } from 'vitest';
import type { RunResult } from '../harness/runner/result.ts';
import { fixture } from './fixtures.ts';
import { htmlReport } from './html.ts';
import { reportInputFor } from './input.ts';
import { markdownReport } from './markdown.ts';

// A fault aimed at a role: its history target names the role and the broker it resolved to (harness/faults/schedule.ts).
describe('a role fault in the reports', () => {
  it('the HTML and markdown reports show the role with the broker it hit', () => {
    const run = structuredClone(fixture('pass')) as RunResult;
    const first = run.faults[0]!;
    run.faults = [{ ...first, fault: 'kill', target: 'leader:events/0 → broker:2' }];
    const input = reportInputFor(run);
    expect(markdownReport(input)).toMatch(/\| kill \| leader:events\/0 → broker:2 \|/);
    expect(htmlReport(input)).toContain('kill on leader:events/0 → broker:2');
  });
});
