// The 效能监察 dashboard's charts (/stats): Apache ECharts, only the parts used, Chinese locale,
// bundled by build.mjs into static/build/dashboard.js (served by the app, no CDN).
//
// Each chart is a `<div data-chart="…">` holding its spec as JSON in `data-spec`, built by
// web/pages/dashboard.py from the same figures as the table that follows it (the numbers for
// screen readers and print). A click on a point, bar, funnel stage or heat-map cell opens the
// drill-down of that number (its `links` entry) when it has one.
import * as echarts from "echarts/core";
import { BarChart, HeatmapChart, LineChart } from "echarts/charts";
import {
  GridComponent,
  LegendComponent,
  TooltipComponent,
  VisualMapComponent,
} from "echarts/components";
import { CanvasRenderer } from "echarts/renderers";

echarts.use([
  BarChart,
  HeatmapChart,
  LineChart,
  GridComponent,
  LegendComponent,
  TooltipComponent,
  VisualMapComponent,
  CanvasRenderer,
]);

// One palette for the page (the CSS uses the same colours for the KPI cards).
const COLOURS = {
  received: "#2f6fb3",
  finished: "#2e8b57",
  overdue: "#c0392b",
  on_time: "#2e8b57",
  accepted: "#4f8fd6",
  certified: "#8e6bbf",
  refused: "#999999",
};
const RATING_COLOURS = ["#c0392b", "#e67e22", "#f1c40f", "#7fb069", "#2e8b57"]; // 1 → 5
const FONT = '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif';

const compact = () => window.matchMedia("(max-width: 640px)").matches;

const grid = (extra = {}) => ({
  left: 8,
  right: 16,
  top: 40,
  bottom: 8,
  containLabel: true,
  ...extra,
});

const legend = (names) => ({ data: names, top: 0, textStyle: { fontFamily: FONT } });

function trend(spec) {
  return {
    tooltip: { trigger: "axis" },
    legend: legend(spec.series.map((s) => s.name)),
    grid: grid(),
    xAxis: { type: "category", data: spec.labels, boundaryGap: false },
    yAxis: { type: "value", minInterval: 1 },
    series: spec.series.map((s) => ({
      name: s.name,
      type: "line",
      data: s.data,
      symbolSize: 7,
      smooth: false,
      itemStyle: { color: COLOURS[s.key] },
      lineStyle: { width: 2.5 },
      cursor: "pointer",
    })),
  };
}

function stacked(spec) {
  const horizontal = spec.labels.length > 6 || compact();
  const category = {
    type: "category",
    data: spec.labels,
    axisLabel: { interval: 0, width: horizontal ? 110 : 90, overflow: "truncate" },
  };
  const value = { type: "value", minInterval: 1 };
  return {
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    legend: legend(spec.series.map((s) => s.name)),
    grid: grid(),
    xAxis: horizontal ? value : category,
    yAxis: horizontal ? { ...category, inverse: true } : value,
    series: spec.series.map((s) => ({
      name: s.name,
      type: "bar",
      stack: "tasks",
      data: s.data,
      barMaxWidth: 36,
      itemStyle: { color: COLOURS[s.key] },
      label: { show: true, position: "inside", formatter: (p) => (p.value ? p.value : "") },
      cursor: "pointer",
    })),
  };
}

// The funnel as centred bars (收件 → 受理 → 办结 → 发证, each counting cases), each as wide as
// its count, labelled with its share of the cases received.
function funnel(spec) {
  const top = Math.max(1, ...spec.items.map((i) => i.value));
  const names = spec.items.map((i) => i.name);
  return {
    tooltip: {
      trigger: "item",
      formatter: (p) => `${p.name}: ${p.value}` + (spec.items[p.dataIndex].share ? ` (占收件 ${spec.items[p.dataIndex].share})` : ""),
    },
    grid: grid({ top: 8, left: 8, right: 8 }),
    xAxis: { type: "value", max: top, show: false },
    yAxis: {
      type: "category",
      data: names,
      inverse: true,
      axisLine: { show: false },
      axisTick: { show: false },
      axisLabel: { fontSize: 13 },
    },
    series: [
      {
        name: "pad",
        type: "bar",
        stack: "funnel",
        silent: true,
        itemStyle: { color: "transparent" },
        tooltip: { show: false },
        data: spec.items.map((i) => (top - i.value) / 2),
      },
      {
        name: "办件",
        type: "bar",
        stack: "funnel",
        barCategoryGap: "18%",
        data: spec.items.map((i) => ({ value: i.value, itemStyle: { color: COLOURS[i.key] } })),
        label: {
          show: true,
          position: "inside",
          fontSize: 14,
          fontWeight: "bold",
          color: "#fff",
          textBorderColor: "rgba(0,0,0,0.35)",
          textBorderWidth: 2,
          formatter: (p) => String(p.value) + (spec.items[p.dataIndex].share ? `  ${spec.items[p.dataIndex].share}` : ""),
        },
        cursor: "pointer",
      },
    ],
  };
}

function ratings(spec) {
  return {
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    grid: grid({ top: 16 }),
    xAxis: { type: "category", data: spec.labels, axisLabel: { interval: 0 } },
    yAxis: { type: "value", minInterval: 1 },
    series: [
      {
        name: "评价",
        type: "bar",
        barMaxWidth: 48,
        data: spec.data.map((v, i) => ({ value: v, itemStyle: { color: RATING_COLOURS[i] } })),
        label: { show: true, position: "top" },
        cursor: "pointer",
      },
    ],
  };
}

function heat(spec) {
  const top = Math.max(1, ...spec.cells.map((c) => c[2]));
  return {
    tooltip: {
      position: "top",
      formatter: (p) => `${spec.y[p.value[1]]}<br>${spec.x[p.value[0]]}: 超期 ${p.value[2]} 件`,
    },
    grid: grid({ top: 8, bottom: 56 }),
    xAxis: { type: "category", data: spec.x, splitArea: { show: true } },
    yAxis: {
      type: "category",
      data: spec.y,
      splitArea: { show: true },
      axisLabel: { width: compact() ? 90 : 180, overflow: "truncate" },
    },
    visualMap: {
      min: 0,
      max: top,
      calculable: false,
      orient: "horizontal",
      left: "center",
      bottom: 0,
      itemHeight: 120,
      text: ["多", "少"],
      inRange: { color: ["#fdf2f0", "#f1948a", "#c0392b", "#7b1d13"] },
    },
    series: [
      {
        name: "超期",
        type: "heatmap",
        data: spec.cells,
        label: { show: true, formatter: (p) => (p.value[2] ? p.value[2] : "") },
        emphasis: { itemStyle: { borderColor: "#333", borderWidth: 1 } },
        cursor: "pointer",
      },
    ],
  };
}

const BUILD = { trend, stacked, funnel, ratings, heat };

// The drill-down behind a clicked item, or null.
function linkOf(spec, params) {
  if (spec.type === "funnel") return spec.items[params.dataIndex]?.link ?? null; // "pad" is silent
  if (spec.type === "ratings" || spec.type === "heat") return spec.links[params.dataIndex] ?? null;
  return spec.series[params.seriesIndex]?.links[params.dataIndex] ?? null;
}

function draw(el) {
  const spec = JSON.parse(el.dataset.spec);
  const build = BUILD[spec.type];
  if (!build) throw new Error(`unknown chart type ${spec.type}`);
  const chart = echarts.init(el, null, { renderer: "canvas", locale: "ZH" });
  el.lianbanChart = chart; // for the browser tests: a bar's position on the canvas
  // "ok" once drawn in full (its animation over): what a test waits for before clicking
  chart.on("finished", () => {
    el.dataset.chartStatus = "ok";
  });
  chart.setOption({ textStyle: { fontFamily: FONT }, animation: !compact(), ...build(spec) });
  chart.on("click", (params) => {
    const link = linkOf(spec, params);
    if (link) window.location.assign(link);
  });
  return chart;
}

function start() {
  const charts = [];
  for (const el of document.querySelectorAll("[data-chart]")) {
    try {
      charts.push(draw(el));
    } catch (err) {
      el.dataset.chartStatus = `error: ${err.message}`;
      el.classList.add("chart-failed");
      el.textContent = "图表无法显示, 请查看下方数据表。";
      console.error(err); // the browser tests fail on it
    }
  }
  let pending = 0;
  window.addEventListener("resize", () => {
    clearTimeout(pending);
    pending = setTimeout(() => charts.forEach((c) => c.resize()), 100);
  });
  // Printing: the charts take the paper's width, then the screen's again.
  window.addEventListener("beforeprint", () => charts.forEach((c) => c.resize()));
  window.addEventListener("afterprint", () => charts.forEach((c) => c.resize()));
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
