// Charts drawn with uPlot (vendored unmodified from the npm registry in static/vendor/uplot/,
// MIT; loaded on the first page that draws a chart). Colours come from the theme's custom
// properties at drawing time, and a chart is drawn again when the theme changes or its box is
// resized. Charts are pictures for the eye (aria-hidden): each has a table with its figures.

import { h } from "../dom.js";

const UPLOT = "/static/vendor/uplot/uPlot.iife.min.js";
const UPLOT_CSS = "/static/vendor/uplot/uPlot.min.css";
const HEIGHT = 240;

let loading = null;

/** uPlot, loaded once (a classic script that defines `uPlot`, and its stylesheet). */
export function loadUplot() {
  if (window.uPlot) return Promise.resolve(window.uPlot);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const script = h("script", { src: UPLOT });
      script.addEventListener("load", () => resolve(window.uPlot));
      script.addEventListener("error", () => {
        loading = null;
        script.remove();
        reject(new Error("The charts could not be drawn (their library did not load)."));
      });
      document.head.append(h("link", { rel: "stylesheet", href: UPLOT_CSS }), script);
    });
  }
  return loading;
}

function colour(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function options(uPlot, spec, width) {
  const ink = colour("--muted");
  const grid = colour("--line");
  const axis = (label) => ({ stroke: ink, label, labelFont: "12px system-ui", font: "12px system-ui", grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } });
  const x = { label: spec.time ? "Day" : spec.xLabel || "" };
  if (spec.xNames) x.value = (_, value) => (value === null || value === undefined ? "—" : spec.xNames[value - 1] || "");
  return {
    width,
    height: HEIGHT,
    scales: { x: { time: Boolean(spec.time) } },
    series: [
      x,
      ...spec.series.map((series) => {
        const stroke = colour(series.colour);
        return {
          label: series.label,
          stroke,
          width: 2,
          fill: series.bars ? stroke : undefined,
          paths: series.bars ? uPlot.paths.bars({ size: [0.7, 40] }) : undefined,
          points: { show: !series.bars && spec.x.length <= 60 },
          spanGaps: false,
        };
      }),
    ],
    // Counted x values (weeks, ranks) get whole-number ticks.
    axes: [{ ...axis(spec.time ? "" : spec.xLabel || ""), ...(spec.time ? {} : { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] }) }, axis(spec.yLabel || "")],
    legend: { show: true },
  };
}

/**
 * Draw `spec` ({x, time, xLabel, yLabel, xNames, series: [{label, values, colour (a custom
 * property's name), bars}]}) into `box`; answers once it is drawn.
 */
export async function drawChart(box, spec) {
  const uPlot = await loadUplot();
  if (!spec.series.length || !spec.x.length) {
    box.append(h("p", { class: "muted" }, "Nothing to draw yet."));
    return null;
  }
  const data = [spec.x, ...spec.series.map((series) => series.values)];
  const width = () => Math.max(280, box.clientWidth || 600);
  let chart = new uPlot(options(uPlot, spec, width()), data, box);
  let lastWidth = width();
  const redraw = () => {
    if (!box.isConnected) {
      document.removeEventListener("themechange", redraw);
      return;
    }
    chart.destroy();
    chart = new uPlot(options(uPlot, spec, width()), data, box);
  };
  document.addEventListener("themechange", redraw);
  const resized = new ResizeObserver(() => {
    if (!box.isConnected) {
      resized.disconnect();
      return;
    }
    if (width() === lastWidth) return;
    lastWidth = width();
    chart.setSize({ width: lastWidth, height: HEIGHT });
  });
  resized.observe(box);
  box.dataset.drawn = "true";
  return chart;
}
