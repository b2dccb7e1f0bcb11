// Charts of the manager dashboard, drawn with Chart.js from data the page carries.
//
// Each chart is a <figure class="chart" data-chart="bar|hbar"> holding a <canvas> and a
// <script type="application/json"> with {labels, datasets: [{label, data}]}; the page
// never runs inline script (CSP script-src 'self'). The same numbers are in a table under
// each chart. Pages arrive by full loads, by htmx boosted navigation (where scripts in
// <head> are not loaded, so this file loads Chart.js itself) and as htmx fragments.
(function () {
  "use strict";
  if (window.pointsappCharts) {
    window.pointsappCharts.drawAll(document);
    return;
  }
  var me = document.currentScript;
  var chartSrc = (me && me.getAttribute("data-chartjs")) || "/static/vendor/chartjs/chart.umd.min.js";
  var loading = null;
  var BRAND = "#0b5cad";
  var MINUS = "#b3261e";

  function withChartJs(fn) {
    if (window.Chart) { fn(); return; }
    if (!loading) {
      loading = [];
      var script = document.createElement("script");
      script.src = chartSrc;
      script.onload = function () { var queued = loading; loading = null; queued.forEach(function (f) { f(); }); };
      document.head.appendChild(script);
    }
    loading.push(fn);
  }

  function wrapLabel(text, max) {
    var lines = [];
    text.split(" ").forEach(function (word) {
      var last = lines.length - 1;
      if (last >= 0 && (lines[last] + " " + word).length <= max) lines[last] += " " + word;
      else lines.push(word);
    });
    return lines.length > 1 ? lines : text;
  }

  function draw(figure) {
    var canvas = figure.querySelector("canvas");
    var source = figure.querySelector('script[type="application/json"]');
    if (!canvas || !source || window.Chart.getChart(canvas)) return;
    var data;
    try { data = JSON.parse(source.textContent); } catch (e) { return; }
    var horizontal = figure.getAttribute("data-chart") === "hbar";
    data.datasets.forEach(function (set) {
      set.backgroundColor = set.data.map(function (v) { return v < 0 ? MINUS : BRAND; });
      set.borderRadius = 4;
    });
    if (horizontal) {
      // Long category names would be cut at the canvas edge on a phone: break them into lines.
      data.labels = data.labels.map(function (label) { return wrapLabel(String(label), 16); });
      figure.style.height = Math.max(140, data.labels.length * 46 + 40) + "px";
    }
    var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    new window.Chart(canvas, {
      type: "bar",
      data: data,
      options: {
        indexAxis: horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: still ? false : { duration: 300 },
        plugins: { legend: { display: false } },
        scales: {
          x: { ticks: { autoSkip: true, maxRotation: 0 }, grid: { display: horizontal } },
          y: { beginAtZero: true, ticks: { precision: 0, autoSkip: !horizontal } }
        }
      }
    });
  }

  function drawAll(root) {
    var figures = (root || document).querySelectorAll ? (root || document).querySelectorAll("figure.chart[data-chart]") : [];
    if (!figures.length) return;
    withChartJs(function () { Array.prototype.forEach.call(figures, function (f) { if (f.isConnected) draw(f); }); });
  }

  window.pointsappCharts = { drawAll: drawAll };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  } else {
    drawAll(document);
  }
  document.addEventListener("htmx:load", function (event) { drawAll(event.detail && event.detail.elt); });
  document.addEventListener("htmx:historyRestore", function () { drawAll(document); });
  // A swapped-out chart must let go of its canvas and resize observer.
  document.addEventListener("htmx:beforeCleanupElement", function (event) {
    var elt = event.detail && event.detail.elt;
    if (window.Chart && elt && elt.tagName === "CANVAS") {
      var chart = window.Chart.getChart(elt);
      if (chart) chart.destroy();
    }
  });
})();
