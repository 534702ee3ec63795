// Dashboard charts (ECharts). The data is the JSON the page embeds (#gj-chart-data): the same
// figures as the tables next to each chart, so a page without scripts loses nothing but the pictures.
(() => {
  const PALETTE = ["#206bc4", "#2fb344", "#f59f00", "#d63939", "#ae3ec9", "#17a2b8", "#74b816", "#f76707", "#667382"];
  const charts = [];

  function axisOption(data) {
    const percent = Boolean(data.percent);
    return {
      color: PALETTE,
      grid: { left: 8, right: 12, top: 36, bottom: 8, containLabel: true },
      legend: { top: 0, type: "scroll" },
      tooltip: {
        trigger: "axis",
        valueFormatter: (v) => (v === null || v === undefined ? "—" : percent ? `${v}%` : `${v}`),
      },
      xAxis: { type: "category", data: data.labels, axisLabel: { hideOverlap: true } },
      yAxis: percent
        ? { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } }
        : { type: "value", minInterval: 1 },
      series: data.series.map((s) => ({
        ...s,
        connectNulls: true,
        smooth: s.type === "line",
        barMaxWidth: 28,
        emphasis: { focus: "series" },
      })),
    };
  }

  function pieOption(data) {
    return {
      color: PALETTE,
      tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
      legend: { type: "scroll", orient: "vertical", right: 0, top: "middle" },
      series: [
        {
          type: "pie",
          radius: ["45%", "72%"],
          center: ["38%", "50%"],
          avoidLabelOverlap: true,
          label: { show: false },
          data: data.pie,
        },
      ],
    };
  }

  function draw(root) {
    const source = document.getElementById("gj-chart-data");
    if (!source || typeof echarts === "undefined") return;
    const all = JSON.parse(source.textContent);
    root.querySelectorAll("[data-chart]").forEach((el) => {
      const data = all[el.dataset.chart];
      if (!data) return;
      const existing = echarts.getInstanceByDom(el);
      if (existing) existing.dispose();
      const chart = echarts.init(el, null, { renderer: "svg" });
      chart.setOption(data.pie ? pieOption(data) : axisOption(data));
      charts.push(chart);
    });
  }

  window.addEventListener("resize", () => charts.forEach((c) => c.resize()));
  document.addEventListener("DOMContentLoaded", () => draw(document));
  document.addEventListener("htmx:afterSettle", (event) => draw(event.target));
})();
