// Charts of the clearing pages (Chart.js served locally). Data come from json_script tags.
(function () {
  function data(id) {
    const node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }
  const yuan = (value) => Number(value).toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const money = { callbacks: { label: (ctx) => `${ctx.dataset.label}：${yuan(ctx.parsed.y ?? ctx.parsed.x)} 元` } };

  const net = data("net-chart-data");
  const netCanvas = document.getElementById("net-chart");
  if (net && netCanvas && window.Chart) {
    new Chart(netCanvas, {
      type: "bar",
      data: {
        labels: net.labels,
        datasets: [{
          label: "差额（应回收 − 应支付）",
          data: net.net,
          backgroundColor: net.net.map((v) => (v < 0 ? "rgba(220, 53, 69, 0.75)" : "rgba(25, 135, 84, 0.75)")),
        }],
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: { legend: { display: false }, tooltip: money },
        scales: { y: { ticks: { callback: (v) => yuan(v) } } },
      },
    });
  }

  const trend = data("trend-chart-data");
  const trendCanvas = document.getElementById("trend-chart");
  if (trend && trendCanvas && window.Chart) {
    new Chart(trendCanvas, {
      type: "line",
      data: {
        labels: trend.labels,
        datasets: [
          { label: "省内异地就医基金支付", data: trend.intra, borderColor: "#0b5394", backgroundColor: "#0b5394", tension: 0.2 },
          { label: "跨省应付（我省参保人在外省）", data: trend.cross_out, borderColor: "#dc3545", backgroundColor: "#dc3545", tension: 0.2 },
          { label: "跨省应收（外省参保人在我省）", data: trend.cross_in, borderColor: "#198754", backgroundColor: "#198754", tension: 0.2 },
        ],
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: { tooltip: money },
        scales: { y: { ticks: { callback: (v) => yuan(v) } } },
      },
    });
  }
})();
