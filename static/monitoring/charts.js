// Charts of the monitoring page (Chart.js served locally). Data come from the json_script tag.
(function () {
  document.querySelectorAll(".js-autosubmit").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });
  const node = document.getElementById("monitoring-chart-data");
  if (!node || !window.Chart) return;
  const data = JSON.parse(node.textContent);
  const yuan = (value) => Number(value).toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const common = { animation: false, responsive: true, maintainAspectRatio: false };
  const BLUE = "#0b5394", GREEN = "#198754", LIGHT_BLUE = "rgba(11, 83, 148, 0.25)", LIGHT_GREEN = "rgba(25, 135, 84, 0.25)";

  const trendCanvas = document.getElementById("trend-chart");
  if (trendCanvas) {
    const t = data.trend;
    new Chart(trendCanvas, {
      data: {
        labels: t.labels,
        datasets: [
          { type: "line", label: "差出次均费用（元）", data: t.outflow_avg, borderColor: BLUE, backgroundColor: BLUE, yAxisID: "avg", tension: 0.2, spanGaps: true },
          { type: "line", label: "差进次均费用（元）", data: t.inflow_avg, borderColor: GREEN, backgroundColor: GREEN, yAxisID: "avg", tension: 0.2, spanGaps: true },
          { type: "bar", label: "差出人次", data: t.outflow_visits, backgroundColor: LIGHT_BLUE, yAxisID: "visits" },
          { type: "bar", label: "差进人次", data: t.inflow_visits, backgroundColor: LIGHT_GREEN, yAxisID: "visits" },
        ],
      },
      options: {
        ...common,
        interaction: { mode: "index", intersect: false },
        scales: {
          avg: { position: "left", title: { display: true, text: "次均费用（元）" }, ticks: { callback: (v) => yuan(v) } },
          visits: { position: "right", title: { display: true, text: "人次" }, grid: { drawOnChartArea: false } },
        },
      },
    });
  }

  document.querySelectorAll(".js-care-chart").forEach((canvas) => {
    const c = data.care[canvas.dataset.direction];
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: c.labels,
        datasets: [
          { label: "职工", data: c.employee, backgroundColor: BLUE },
          { label: "居民", data: c.resident, backgroundColor: "#e69138" },
        ],
      },
      options: {
        ...common,
        plugins: { tooltip: { callbacks: { label: (ctx) => `${ctx.dataset.label}：${yuan(ctx.parsed.y)} 元` } } },
        scales: { x: { stacked: true }, y: { stacked: true, ticks: { callback: (v) => yuan(v) } } },
      },
    });
  });

  document.querySelectorAll(".js-rank-chart").forEach((canvas) => {
    const r = data[canvas.dataset.source][canvas.dataset.direction];
    new Chart(canvas, {
      type: "bar",
      data: { labels: r.labels, datasets: [{ label: "总费用（元）", data: r.total, backgroundColor: canvas.dataset.direction === "outflow" ? BLUE : GREEN }] },
      options: {
        ...common,
        indexAxis: "y",
        plugins: { legend: { display: false }, tooltip: { callbacks: { label: (ctx) => `总费用：${yuan(ctx.parsed.x)} 元` } } },
        scales: { x: { ticks: { callback: (v) => yuan(v) } } },
      },
    });
  });
})();
