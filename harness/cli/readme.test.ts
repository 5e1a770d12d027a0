// The README's command table is the CLI's own usage: one row per command, its first cell exactly
// `streamproof <usage>` (pipes escaped for Markdown), in the order `streamproof help` lists them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commands } from './main.ts';

const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');

function commandRows(): { usage: string; what: string }[] {
  const section = readme.slice(readme.indexOf('\n## Commands\n'));
  const rows: { usage: string; what: string }[] = [];
  for (const line of section.split('\n').slice(2)) {
    if (line.startsWith('## ')) break;
    const m = /^\| `(streamproof .*?)` \| (.*) \|$/.exec(line);
    if (m) rows.push({ usage: m[1]!.replace(/\\\|/g, '|'), what: m[2]! });
  }
  return rows;
}

describe('README commands', () => {
  it("list every command with the CLI's own usage line, in order", () => {
    const rows = commandRows();
    expect(rows.map((r) => r.usage)).toEqual(commands.map((c) => `streamproof ${c.usage}`));
    for (const r of rows) expect(r.what.trim().length).toBeGreaterThan(10);
  });
});
