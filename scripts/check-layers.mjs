#!/usr/bin/env node
/**
 * Keeps the layers (run by `npm run lint` after biome): reads every import of harness/, reports/, generators/ and
 * reference-pipeline/ (static, `export ... from`, dynamic `import()`, and `import('...')` types), test files aside,
 * and fails naming the file, the import and the rule it breaks.
 *
 * Units: `harness/<folder>` (harness/api.ts is `harness/api`), `reports`, `generators`, `reference-pipeline/model`
 * (the attribution model) and `reference-pipeline`. The rules:
 * - layer: harness folders and generators read top-down; a unit never imports one of a higher layer (RANKS):
 *     cli, api > certify, bench, export, vitest > runner > contracts > checkers, faults, load, workers
 *     > history, kafka, registry, stack, generators > util.
 *   A folder missing from RANKS fails too (give it a layer).
 * - reports: the reporters format results, they never run anything. From harness they import types (`import type`,
 *   or every name `type`) and, as values, only the result model (RESULT_MODEL: pure modules, whose own value imports
 *   are node builtins and each other). Only the layers above the runner (certify and up) import reports.
 * - separate: the harness and the reference pipeline never import each other (the runner starts the reference by
 *   its command). The attribution model (reference-pipeline/model) is the specification both sides use: any unit may
 *   import it, and it imports nothing outside itself.
 * - cycle: no import cycle between units (types included).
 * KNOWN lists the violations still to remove, each with why; they are reported, not failed on.
 *
 *   node scripts/check-layers.mjs [root]     exit 0 when the layers hold, 1 with one line per violation
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const ROOTS = ['harness', 'reports', 'generators', 'reference-pipeline'];

/** Higher imports lower, never the reverse. */
export const RANKS = {
  'harness/util': 0,
  'harness/history': 1,
  'harness/kafka': 1,
  'harness/registry': 1,
  'harness/stack': 1,
  generators: 1,
  'harness/checkers': 2,
  'harness/contracts': 2.5,
  'harness/faults': 2,
  'harness/load': 2,
  'harness/workers': 2,
  'harness/runner': 3,
  'harness/certify': 4,
  'harness/bench': 4,
  'harness/export': 4,
  'harness/explore': 4,
  'harness/vitest': 4,
  'harness/cli': 5,
  'harness/api': 5,
};

/** The lowest layer that may import reports. */
export const REPORTS_FROM_RANK = 4;

/** What reports may import from harness as values: the result model, pure. */
export const RESULT_MODEL = [
  'harness/runner/result.ts',
  'harness/runner/result-file.ts',
  'harness/runner/lag-series.ts',
  'harness/util/errors.ts',
];

export const MODEL = 'reference-pipeline/model';

/** Violations still to remove: `{ from, to, why }` (`from` file -> `to` file, and why it is still here). None left. */
export const KNOWN = [];

const SOURCE = /\.(ts|mts|js|mjs)$/;
const TEST = /(\.test\.(ts|mts|js|mjs)|\.d\.ts)$/;

/** The unit of a file (path relative to the root, `/`-separated). */
export function unitOf(file) {
  const parts = file.split('/');
  if (parts[0] === 'harness')
    return parts.length > 2 ? `harness/${parts[1]}` : `harness/${parts[1].replace(SOURCE, '')}`;
  if (parts[0] === 'reference-pipeline') return parts[1] === 'model' ? MODEL : 'reference-pipeline';
  return parts[0];
}

function sourceFiles(root) {
  const out = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      if (name === 'node_modules' || name.startsWith('.')) continue;
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (SOURCE.test(name) && !TEST.test(name)) out.push(relative(root, p).split(sep).join('/'));
    }
  };
  for (const r of ROOTS) {
    try {
      if (statSync(join(root, r)).isDirectory()) walk(join(root, r));
    } catch {
      // a root this tree does not have
    }
  }
  return out.sort();
}

/** Every relative import of a file: `{ spec, to, typeOnly, dynamic, line }` (`to` relative to the root). */
export function importsOf(root, file) {
  const text = readFileSync(join(root, file), 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found = [];
  const add = (node, spec, typeOnly, dynamic) => {
    if (!spec.startsWith('.')) return;
    const to = relative(root, resolve(root, dirname(file), spec))
      .split(sep)
      .join('/');
    const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
    found.push({ spec, to, typeOnly, dynamic, line });
  };
  const visit = (n) => {
    if (ts.isImportDeclaration(n) && ts.isStringLiteral(n.moduleSpecifier)) {
      const c = n.importClause;
      const named = c?.namedBindings && ts.isNamedImports(c.namedBindings) ? c.namedBindings.elements : undefined;
      const typeOnly =
        !!c && (c.isTypeOnly || (!c.name && !!named && named.length > 0 && named.every((e) => e.isTypeOnly)));
      add(n, n.moduleSpecifier.text, typeOnly, false);
    } else if (ts.isExportDeclaration(n) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) {
      const named = n.exportClause && ts.isNamedExports(n.exportClause) ? n.exportClause.elements : undefined;
      const typeOnly = n.isTypeOnly || (!!named && named.length > 0 && named.every((e) => e.isTypeOnly));
      add(n, n.moduleSpecifier.text, typeOnly, false);
    } else if (
      ts.isCallExpression(n) &&
      n.expression.kind === ts.SyntaxKind.ImportKeyword &&
      n.arguments[0] &&
      ts.isStringLiteralLike(n.arguments[0])
    ) {
      add(n, n.arguments[0].text, false, true);
    } else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && ts.isStringLiteral(n.argument.literal)) {
      add(n, n.argument.literal.text, true, false);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return found;
}

const inProject = (to) => ROOTS.includes(to.split('/')[0]);
const rankOf = (unit) => RANKS[unit];

/** The rule an import breaks, or undefined. */
function judge(from, imp) {
  const a = unitOf(from);
  const b = unitOf(imp.to);
  if (a === b || !inProject(imp.to)) return undefined;
  const what = `${imp.dynamic ? 'import()' : imp.typeOnly ? 'a type import' : 'an import'}`;
  if (a === MODEL) return { rule: 'separate', why: `the attribution model imports nothing outside itself (${what})` };
  if (b === MODEL) return undefined;
  const harness = (u) => u.startsWith('harness/');
  if ((harness(a) && b === 'reference-pipeline') || (a === 'reference-pipeline' && harness(b))) {
    return {
      rule: 'separate',
      why: 'the harness and the reference pipeline never import each other (the runner starts the reference by its command)',
    };
  }
  if (a === 'reference-pipeline' || b === 'reference-pipeline') {
    return b === 'reference-pipeline'
      ? { rule: 'separate', why: `${a} must not import the reference pipeline` }
      : a === 'reference-pipeline' && b === 'reports'
        ? { rule: 'separate', why: 'the reference pipeline must not import reports' }
        : undefined;
  }
  if (a === 'reports') {
    if (imp.typeOnly) return undefined;
    if (RESULT_MODEL.includes(imp.to)) return undefined;
    return {
      rule: 'reports',
      why: `reports format results and never run anything: from harness they import types and the result model (${RESULT_MODEL.join(', ')}) only, not ${b} code`,
    };
  }
  if (b === 'reports') {
    if (rankOf(a) !== undefined && rankOf(a) >= REPORTS_FROM_RANK) return undefined;
    return {
      rule: 'layer',
      why: `${a} must not import reports (only certify and the layers above it write reports; the runner returns a result)`,
    };
  }
  for (const u of [a, b]) {
    if (rankOf(u) === undefined) {
      return { rule: 'layer', why: `${u} has no layer: add it to RANKS in scripts/check-layers.mjs` };
    }
  }
  if (rankOf(b) > rankOf(a)) {
    return {
      rule: 'layer',
      why: `${a} (layer ${rankOf(a)}) must not depend on ${b} (layer ${rankOf(b)}), a higher layer`,
    };
  }
  return undefined;
}

/** The result model's own imports: node builtins and each other only, so reports never reach runner code. */
function judgeModel(from, imp) {
  if (!RESULT_MODEL.includes(from) || imp.typeOnly || RESULT_MODEL.includes(imp.to)) return undefined;
  return {
    rule: 'reports',
    why: `${from} is the result model reports may import: its value imports must be node builtins or the result model`,
  };
}

/** Strongly connected components of more than one unit (Tarjan). */
function cycles(edges) {
  const nodes = [...new Set([...edges.keys(), ...[...edges.values()].flatMap((s) => [...s])])].sort();
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const on = new Set();
  const out = [];
  const strong = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of [...(edges.get(v) ?? [])].sort()) {
      if (!idx.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const scc = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of nodes) if (!idx.has(v)) strong(v);
  return out;
}

/** Checks a tree; `known` are the violations still tolerated. Returns what breaks the layers and what is known. */
export function checkLayers(root, known = KNOWN) {
  const violations = [];
  const tolerated = [];
  const edges = new Map();
  const why = new Map();
  for (const from of sourceFiles(root)) {
    for (const imp of importsOf(root, from)) {
      if (!inProject(imp.to)) continue;
      const isKnown = known.some((k) => k.from === from && k.to === imp.to);
      for (const v of [judge(from, imp), judgeModel(from, imp)]) {
        if (!v) continue;
        const entry = { ...v, file: from, line: imp.line, import: imp.spec, to: imp.to };
        (isKnown ? tolerated : violations).push(entry);
      }
      const a = unitOf(from);
      const b = unitOf(imp.to);
      if (a === b || isKnown) continue;
      if (!edges.has(a)) edges.set(a, new Set());
      edges.get(a).add(b);
      const key = `${a} -> ${b}`;
      if (!why.has(key)) why.set(key, `${from}:${imp.line}`);
    }
  }
  for (const scc of cycles(edges)) {
    const inside = [...why.entries()]
      .filter(([k]) => {
        const [a, b] = k.split(' -> ');
        return scc.includes(a) && scc.includes(b);
      })
      .map(([k, at]) => `${k} (${at})`);
    violations.push({
      rule: 'cycle',
      why: `an import cycle between ${scc.join(', ')}: ${inside.join('; ')}`,
      file: inside[0]?.split('(')[1]?.split(':')[0] ?? scc[0],
      line: 0,
      import: '',
      to: '',
    });
  }
  return { violations, tolerated };
}

export function format(v) {
  return v.rule === 'cycle'
    ? `[cycle] ${v.why}`
    : `[${v.rule}] ${v.file}:${v.line} imports '${v.import}' (${v.to}): ${v.why}`;
}

function main() {
  const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
  const { violations, tolerated } = checkLayers(root);
  for (const t of tolerated) process.stderr.write(`check-layers: known, to remove: ${format(t)}\n`);
  if (violations.length === 0) {
    process.stdout.write(`check-layers: the layers hold (${tolerated.length} known exception(s))\n`);
    return 0;
  }
  for (const v of violations) process.stderr.write(`check-layers: ${format(v)}\n`);
  process.stderr.write(
    `check-layers: ${violations.length} violation(s) of the layers (see scripts/check-layers.mjs)\n`,
  );
  return 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main();
