// Browser code of the HTML report, inlined into the file at render time (with uPlot). It reads the chart data from
// the embedded JSON data block (id streamproof-data) and draws, per run, three uPlot charts: offered /
// acked / observed throughput, end-to-end latency percentiles, and consumer lag, each with every fault window shaded
// and numbered on the time axis. It makes no network request. After drawing, each chart container carries
// data-points (the number of data points drawn) and data-drawn="true", for people inspecting the page and for tests.
(() => {
  const data = JSON.parse(document.getElementById('streamproof-data').textContent);
  const FAULT_FILL = 'rgba(220, 38, 38, 0.10)';
  const FAULT_EDGE = 'rgba(220, 38, 38, 0.55)';
  const FAULT_TEXT = '#991b1b';

  function faultPlugin(faults) {
    const span = (u, f) => {
      const xs = u.scales.x;
      const start = Math.max(f.start, xs.min);
      const end = Math.min(f.end === null ? xs.max : f.end, xs.max);
      if (end < xs.min || start > xs.max) return null;
      const x0 = u.valToPos(start, 'x', true);
      const x1 = Math.max(u.valToPos(end, 'x', true), x0 + 2 * devicePixelRatio);
      return [x0, x1];
    };
    return {
      hooks: {
        drawClear: [
          (u) => {
            const ctx = u.ctx;
            const { top, height } = u.bbox;
            ctx.save();
            for (const f of faults) {
              const s = span(u, f);
              if (!s) continue;
              ctx.fillStyle = FAULT_FILL;
              ctx.fillRect(s[0], top, s[1] - s[0], height);
              ctx.fillStyle = FAULT_EDGE;
              ctx.fillRect(s[0], top, devicePixelRatio, height);
            }
            ctx.restore();
          },
        ],
        draw: [
          (u) => {
            const ctx = u.ctx;
            const { top } = u.bbox;
            ctx.save();
            ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
            ctx.fillStyle = FAULT_TEXT;
            ctx.textBaseline = 'top';
            let row = 0;
            let lastEnd = -Infinity;
            for (const f of faults) {
              const s = span(u, f);
              if (!s) continue;
              const text = f.short;
              const w = ctx.measureText(text).width;
              // Stagger labels of windows that are too close to share a row.
              row = s[0] < lastEnd ? (row + 1) % 3 : 0;
              ctx.fillText(text, s[0] + 3 * devicePixelRatio, top + (2 + row * 13) * devicePixelRatio);
              lastEnd = Math.max(lastEnd, s[0] + w + 6 * devicePixelRatio);
            }
            ctx.restore();
          },
        ],
      },
    };
  }

  function chart(el, run, opts) {
    const width = Math.max(320, el.clientWidth || 900);
    const u = new uPlot(
      {
        width,
        height: 230,
        scales: {
          x: { time: false, range: () => run.x },
          y: opts.log ? { distr: 3 } : { range: (_u, _min, max) => [0, max > 0 ? max * 1.08 : 1] },
        },
        axes: [
          { label: 'seconds since load start', size: 40 },
          { label: opts.unit, size: 70 },
        ],
        legend: { live: true },
        series: [{ label: 't (s)' }, ...opts.series.map((s) => ({ spanGaps: false, width: 2, ...s }))],
        plugins: [faultPlugin(run.faults)],
      },
      opts.data,
      el,
    );
    let points = 0;
    for (let i = 1; i < opts.data.length; i++)
      for (const v of opts.data[i]) if (v !== null && v !== undefined) points++;
    el.dataset.points = String(points);
    el.dataset.drawn = 'true';
    return u;
  }

  const charts = [];
  for (const run of data.runs) {
    const section = document.querySelector(`section.run[data-run="${run.index}"]`);
    if (!section) continue;
    const s = run.series;
    const tp = section.querySelector('.chart[data-chart="throughput"]');
    if (tp) {
      charts.push(
        chart(tp, run, {
          unit: 'records / s',
          data: [s.t, s.offered, s.acked, s.observed],
          series: [
            { label: 'offered', stroke: '#2563eb' },
            { label: 'acked', stroke: '#16a34a', dash: [6, 3] },
            { label: run.outputLabel || 'output (observed)', stroke: '#9333ea' },
          ],
        }),
      );
    }
    const lat = section.querySelector('.chart[data-chart="latency"]');
    if (lat) {
      const positive = [s.p50, s.p95, s.p99].every((col) => col.every((v) => v === null || v > 0));
      charts.push(
        chart(lat, run, {
          unit: positive ? 'ms (log scale)' : 'ms',
          log: positive,
          data: [s.t, s.p50, s.p95, s.p99],
          series: [
            { label: 'e2e p50', stroke: '#0891b2' },
            { label: 'e2e p95', stroke: '#ea580c' },
            { label: 'e2e p99', stroke: '#be123c' },
          ],
        }),
      );
    }
    const lag = section.querySelector('.chart[data-chart="lag"]');
    if (lag && run.lag) {
      charts.push(
        chart(lag, run, {
          unit: 'records',
          data: [run.lag.t, run.lag.lag],
          series: [{ label: run.lag.label, stroke: '#ca8a04', fill: 'rgba(202, 138, 4, 0.12)' }],
        }),
      );
    }
  }
  // For people poking at the report in devtools (and for the browser test): the uPlot instances.
  window.streamproofCharts = charts;
  window.addEventListener('resize', () => {
    for (const u of charts) u.setSize({ width: Math.max(320, u.root.parentElement.clientWidth), height: 230 });
  });
})();
