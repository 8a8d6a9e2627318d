// The charts of `syllabus compare --html`: training and held-out loss over global step, one line
// per run in its colour, the phases as bands named at the top. Drawn with uPlot, inlined above.
(function () {
  const data = JSON.parse(document.getElementById('compare-data').textContent);
  const runs = data.runs;
  const first = runs.length ? runs[0].phases : [];
  // The x axis spans every run's phases, from the first step to the last, logged or not.
  const steps = runs.flatMap((run) => run.phases.flatMap((p) => [p.stepStart, p.stepEnd]));
  const xRange = (u, min, max) =>
    steps.length ? [Math.min(min, ...steps), Math.max(max, ...steps)] : [min, max];
  const same = (a, b) =>
    a.length === b.length &&
    a.every((p, i) => p.stepStart === b[i].stepStart && p.stepEnd === b[i].stepEnd);

  // Under the grid and the lines: the first run's phases as alternating bands with their names,
  // the boundaries between them, and any other run's boundaries where its phases differ.
  function drawPhases(u) {
    const ctx = u.ctx;
    const { left, top, width, height } = u.bbox;
    const px = devicePixelRatio || 1;
    const x = (step) => Math.round(u.valToPos(step, 'x', true));
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    ctx.font = `${12 * px}px system-ui, sans-serif`;
    ctx.textBaseline = 'top';
    first.forEach((p, i) => {
      const x0 = x(p.stepStart);
      const x1 = x(p.stepEnd);
      ctx.fillStyle = i % 2 ? 'rgba(9, 105, 218, 0.07)' : 'rgba(9, 105, 218, 0.025)';
      ctx.fillRect(x0, top, x1 - x0, height);
      if (i > 0) {
        ctx.strokeStyle = 'rgba(31, 35, 40, 0.45)';
        ctx.lineWidth = px;
        ctx.setLineDash([4 * px, 3 * px]);
        ctx.beginPath();
        ctx.moveTo(x0 + 0.5, top);
        ctx.lineTo(x0 + 0.5, top + height);
        ctx.stroke();
      }
      ctx.fillStyle = 'rgba(31, 35, 40, 0.7)';
      ctx.fillText(p.name, x0 + 6 * px, top + 6 * px, Math.max(0, x1 - x0 - 10 * px));
    });
    runs.slice(1).forEach((run) => {
      if (same(run.phases, first)) return;
      ctx.strokeStyle = run.colour;
      ctx.lineWidth = 2 * px;
      ctx.setLineDash([6 * px, 4 * px]);
      run.phases.slice(1).forEach((p) => {
        ctx.beginPath();
        ctx.moveTo(x(p.stepStart), top);
        ctx.lineTo(x(p.stepStart), top + height);
        ctx.stroke();
      });
    });
    ctx.restore();
  }

  const number = (v) => (v == null ? '–' : Number(v.toPrecision(4)).toString());

  function draw(chart) {
    const box = document.getElementById(chart.id);
    if (!chart.x.length) {
      box.innerHTML = '<div class="u-title"></div><div class="empty"></div>';
      box.firstChild.textContent = chart.title;
      box.lastChild.textContent = 'Nothing logged yet.';
      return;
    }
    const sparse = chart.x.length < 40;
    const opts = {
      title: chart.title + (chart.log ? ' (log scale)' : ''),
      width: Math.max(320, box.clientWidth),
      height: 340,
      scales: { x: { time: false, range: xRange }, y: chart.log ? { distr: 3 } : {} },
      axes: [
        { label: 'global step' },
        { size: 64, values: (u, splits) => splits.map(number) },
      ],
      series: [{ label: 'step' }].concat(
        runs.map((run) => ({
          label: run.runId,
          stroke: run.colour,
          width: 2,
          spanGaps: true,
          value: (u, v) => number(v),
          points: { show: sparse, size: 5, fill: run.colour },
        })),
      ),
      hooks: { drawClear: [drawPhases] },
    };
    const plot = new uPlot(opts, [chart.x].concat(chart.y), box);
    new ResizeObserver(() => plot.setSize({ width: Math.max(320, box.clientWidth), height: 340 }))
      .observe(box);
  }

  data.charts.forEach(draw);
  const linear = data.charts.filter((c) => c.x.length && !c.log).map((c) => c.title);
  if (linear.length) {
    document.getElementById('chart-note').textContent =
      linear.join(' and ') + ': linear scale, since some values are not above 0.';
  }
  document.body.dataset.drawn = 'true';
})();
