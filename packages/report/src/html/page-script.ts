/**
 * The report page's own script (plain ES2017, no imports): reads the chart specs from the JSON
 * block `#report-charts` and draws each on its canvas with Chart.js, without animation so the page
 * is complete when `load` fires. Marks `<html data-charts-rendered="N">` when done.
 */
export const PAGE_SCRIPT = `(function () {
  'use strict';
  var block = document.getElementById('report-charts');
  var specs = block ? JSON.parse(block.textContent) : [];
  var Chart = window.Chart;
  if (!Chart) { document.documentElement.setAttribute('data-charts-error', 'Chart.js did not load'); return; }
  Chart.defaults.font.family = 'system-ui, sans-serif';
  Chart.defaults.color = '#333';
  // Long names (StatefulPartitionedCall/functional_1/conv2d_3/BiasAdd) differ at the end: keep both ends.
  function shorten(label) { label = String(label); return label.length > 42 ? label.slice(0, 12) + '\\u2026' + label.slice(-29) : label; }
  var drawn = 0;
  specs.forEach(function (spec) {
    var canvas = document.getElementById(spec.id);
    if (!canvas) return;
    var horizontal = spec.kind !== 'bar';
    var valueScale = { type: spec.logarithmic ? 'logarithmic' : 'linear', title: { display: true, text: spec.valueAxis }, beginAtZero: true };
    if (typeof spec.min === 'number') valueScale.min = spec.min;
    if (typeof spec.max === 'number') valueScale.max = spec.max;
    var categoryScale = { ticks: { autoSkip: false, callback: function (value) { return shorten(this.getLabelForValue(value)); } } };
    if (spec.kind === 'timeline') categoryScale.stacked = true;
    var scales = horizontal ? { x: valueScale, y: categoryScale } : { x: categoryScale, y: valueScale };
    new Chart(canvas, {
      type: 'bar',
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(function (d) {
          return { label: d.label, data: d.values, backgroundColor: d.color, borderWidth: 0, skipNull: true, minBarLength: 2 };
        })
      },
      options: {
        animation: false,
        responsive: false,
        indexAxis: horizontal ? 'y' : 'x',
        scales: scales,
        plugins: { legend: { display: spec.datasets.length > 1 }, tooltip: { enabled: true } }
      }
    });
    canvas.setAttribute('data-rendered', 'true');
    drawn += 1;
  });
  document.documentElement.setAttribute('data-charts-rendered', String(drawn));
})();
`;
