/**
 * The HTML report in a real headless browser (Debian's chromium driven by playwright-core): rendered from stored
 * real results, opened from disk, it must load with no console or page error and no network request, draw each
 * chart with data, and show every fault window (in the table, and shaded on each chart at its time). The screenshot
 * is kept as a test artifact (test-artifacts/report.png).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../harness/runner/result.ts';
import { fixture } from '../reports/fixtures.ts';
import { htmlReport, type ReportInput, reportInputFor } from '../reports/index.ts';

const CHROMIUM = '/usr/bin/chromium';

// Stroke colours of the series (html-client.js), as RGB.
const SERIES_RGB: Record<string, [number, number, number][]> = {
  throughput: [
    [0x25, 0x63, 0xeb],
    [0x16, 0xa3, 0x4a],
    [0x93, 0x33, 0xea],
  ],
  latency: [
    [0x08, 0x91, 0xb2],
    [0xea, 0x58, 0x0c],
    [0xbe, 0x12, 0x3c],
  ],
  lag: [[0xca, 0x8a, 0x04]],
};

// Browser-side code below runs in the page (page.evaluate); the project's tsconfig has no DOM lib, so the few DOM
// shapes it touches are declared here.
interface ElementLike {
  dataset: Record<string, string | undefined>;
  parentElement: ElementLike | null;
  textContent: string | null;
}
interface CanvasLike {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
}
declare const document: {
  querySelectorAll(selector: string): { length: number };
  getElementById(id: string): ElementLike | null;
};
declare const window: unknown;

/** The parts of a uPlot instance the test reads (the report exposes its charts as window.streamproofCharts). */
interface PlotLike {
  root: ElementLike;
  ctx: { canvas: CanvasLike };
  bbox: { left: number; top: number; width: number; height: number };
  scales: { x: { max: number } };
  valToPos(value: number, scale: string, canvasPixels: boolean): number;
}

interface Opened {
  page: Page;
  consoleErrors: string[];
  pageErrors: string[];
  requests: string[];
  url: string;
}

let browser: Browser;
let dir: string;

async function open(run: RunResult | ReportInput, name: string, charts = 3): Promise<Opened> {
  const file = join(dir, `${name}.html`);
  const input = 'runs' in run ? run : reportInputFor(run, { baseDir: dir });
  writeFileSync(file, htmlReport(input));
  const url = pathToFileURL(file).href;
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const o: Opened = { page, consoleErrors: [], pageErrors: [], requests: [], url };
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') o.consoleErrors.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => o.pageErrors.push(e.message));
  page.on('request', (r) => o.requests.push(r.url()));
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction((n) => document.querySelectorAll('.chart[data-drawn="true"]').length === n, charts, {
    timeout: 20_000,
  });
  return o;
}

/** Per chart: points drawn, pixels in a series colour, and the fault-tinted share of each fault window's column. */
async function inspect(page: Page) {
  return page.evaluate((seriesRgb) => {
    const near = (d: Uint8ClampedArray, i: number, [r, g, b]: [number, number, number]) =>
      d[i + 3]! > 200 && Math.abs(d[i]! - r) < 24 && Math.abs(d[i + 1]! - g) < 24 && Math.abs(d[i + 2]! - b) < 24;
    const charts = (window as unknown as { streamproofCharts: PlotLike[] }).streamproofCharts;
    return charts.map((u) => {
      const el = u.root.parentElement!;
      const kind = el.dataset.chart!;
      const canvas = u.ctx.canvas;
      const ctx = canvas.getContext('2d')!;
      const { left, top, width, height } = u.bbox;
      const img = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      const seriesPixels = (seriesRgb[kind] ?? []).map((rgb) => {
        let n = 0;
        for (let y = Math.floor(top); y < top + height; y++) {
          for (let x = Math.floor(left); x < left + width; x++) if (near(img, (y * canvas.width + x) * 4, rgb)) n++;
        }
        return n;
      });
      const run = (
        JSON.parse(document.getElementById('streamproof-data')!.textContent!) as {
          runs: { faults: { start: number; end: number | null }[] }[];
        }
      ).runs[0]!;
      const faultTint = run.faults.map((f) => {
        const end = f.end ?? u.scales.x.max;
        const x = Math.round(u.valToPos((f.start + end) / 2, 'x', true));
        let tinted = 0;
        let total = 0;
        for (let y = Math.ceil(top); y < top + height; y++) {
          const i = (y * canvas.width + x) * 4;
          total++;
          // The window fill is translucent red over a transparent canvas; grid lines and series may cross it.
          if (img[i + 3]! > 0 && img[i]! > img[i + 1]! + 60) tinted++;
        }
        return tinted / total;
      });
      return { kind, points: Number(el.dataset.points), pixels: canvas.width * canvas.height, seriesPixels, faultTint };
    });
  }, SERIES_RGB);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'streamproof-report-html-'));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('HTML report in chromium', () => {
  it('chaos-matrix (11 faults): offline, no errors, every chart drawn with data, every fault window shown', async () => {
    const run = fixture('pass');
    expect(run.faults.length).toBe(11);
    const o = await open(run, 'chaos-matrix');

    expect(o.pageErrors).toEqual([]);
    expect(o.consoleErrors).toEqual([]);
    expect(o.requests).toEqual([o.url]);

    const charts = await inspect(o.page);
    expect(charts.map((c) => c.kind)).toEqual(['throughput', 'latency', 'lag']);
    for (const c of charts) {
      expect(c.points, `${c.kind} points`).toBeGreaterThan(0);
      // Every series of the chart left visible strokes in its colour inside the plot area.
      for (const [i, n] of c.seriesPixels.entries()) expect(n, `${c.kind} series ${i} pixels`).toBeGreaterThan(20);
      // Every fault window is shaded at its time on this chart.
      expect(c.faultTint).toHaveLength(run.faults.length);
      for (const [i, share] of c.faultTint.entries())
        expect(share, `${c.kind} fault ${i + 1} shading`).toBeGreaterThan(0.5);
    }

    const rows = await o.page.$$eval('tr.fault-window', (trs) =>
      trs.map((tr) => ({
        fault: (tr as unknown as ElementLike).dataset.fault,
        target: (tr as unknown as ElementLike).dataset.target,
        label: (tr as unknown as ElementLike).dataset.label,
      })),
    );
    expect(rows).toEqual(
      run.faults.map((f, i) => ({
        fault: f.fault,
        target: f.target ?? '',
        label: `${i + 1}: ${f.fault}${f.target ? ` on ${f.target}` : ''}`,
      })),
    );
    expect(await o.page.locator('header [data-verdict]').getAttribute('data-verdict')).toBe('pass');
    expect(await o.page.locator('pre.replay').textContent()).toBe(run.replay);

    mkdirSync('test-artifacts', { recursive: true });
    await o.page.screenshot({ path: 'test-artifacts/report.png', fullPage: true });
    await o.page.close();
  });

  it('a failing run: anomaly table with capped examples and a relative link to the full lists', async () => {
    const run = fixture('fail');
    const o = await open(run, 'copy-kill-autocommit');
    expect(o.pageErrors).toEqual([]);
    expect(o.consoleErrors).toEqual([]);
    expect(o.requests).toEqual([o.url]);
    const lost = await o.page.$$eval('tr[data-anomaly="lost"] ul.examples li', (lis) =>
      lis.map((li) => li.textContent),
    );
    expect(lost).toEqual(run.anomalies.lost.slice(0, 5));
    const href = await o.page.locator('a.anomalies-file').getAttribute('href');
    expect(href).not.toMatch(/^\//); // relative to the report's directory
    expect(new URL(href!, o.url).pathname).toBe(run.files.anomalies);
    expect(await o.page.locator('tr[data-checker="exactly-once"] td').nth(1).textContent()).toBe('FAILED');
    await o.page.screenshot({ path: 'test-artifacts/report-fail.png', fullPage: true });
    await o.page.close();
  });

  it('several runs (certify): a summary table, one section with three charts per run, still offline', async () => {
    const runs = [fixture('pass'), fixture('sloBreach'), fixture('fail')];
    const o = await open({ title: 'certify', runs, baseDir: dir }, 'certify', 9);
    expect(o.pageErrors).toEqual([]);
    expect(o.consoleErrors).toEqual([]);
    expect(o.requests).toEqual([o.url]);
    expect(await o.page.locator('table.summary tbody tr').count()).toBe(3);
    expect(await o.page.locator('section.run').count()).toBe(3);
    expect(await o.page.locator('header [data-verdict]').getAttribute('data-verdict')).toBe('fail');
    const points = await o.page.$$eval('.chart', (els) =>
      els.map((e) => Number((e as unknown as ElementLike).dataset.points)),
    );
    expect(points).toHaveLength(9);
    for (const p of points) expect(p).toBeGreaterThan(0);
    expect(await o.page.locator('tr.fault-window').count()).toBe(runs.reduce((n, r) => n + r.faults.length, 0));
    await o.page.close();
  });
});
