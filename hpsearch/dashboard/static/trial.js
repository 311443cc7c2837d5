"use strict";
(() => {
  const { el, fmt, plotText, getJSON, poll, clear, layout, CONFIG, kv } = HPS;
  const main = document.getElementById("main");
  const key = main.dataset.key, trialId = main.dataset.trial;
  let lastLog = null, lastReports = -1;

  async function update() {
    const t = await getJSON(`/api/run/${key}/trial/${trialId}`);
    HPS.statusBadge(document.getElementById("status"), t.status);
    kv(document.querySelector("#config tbody"), t.config);
    const result = { objective: t.objective, status: t.status };
    for (const [k, v] of Object.entries(t.metrics)) result[k] = v;
    for (const k of ["config_id", "bracket", "rung", "budget", "started_at", "finished_at", "duration_s", "worker"]) {
      if (t.row[k] !== "" && t.row[k] !== null && t.row[k] !== undefined) result[k] = t.row[k];
    }
    kv(document.querySelector("#result tbody"), result);
    document.getElementById("sec-error").hidden = !t.error;
    document.getElementById("error").textContent = t.error || "";
    if (t.reports.length !== lastReports) {
      lastReports = t.reports.length;
      const sec = document.getElementById("sec-reports");
      sec.hidden = !t.reports.length;
      if (t.reports.length) {
        await HPS.plotlyReady;
        const names = new Set();
        for (const r of t.reports) for (const k of Object.keys(r)) if (k !== "step") names.add(k);
        const traces = [...names].map((n) => ({ type: "scatter", mode: "lines+markers", name: plotText(n),
          x: t.reports.map((r, j) => r.step ?? j + 1), y: t.reports.map((r) => r[n] ?? null) }));
        Plotly.react("fig-reports", traces, layout({ title: { text: "reported metrics by step", font: { size: 14 } },
          xaxis: { title: { text: "step" } } }), CONFIG);
      }
    }
    const log = t.log;
    document.getElementById("logname").textContent = log.name
      ? `logs/${log.name}${log.cut ? " (last 16 KiB)" : ""}` : "(no log file: the serial evaluator and silent trials write none)";
    if (log.tail !== lastLog) {
      lastLog = log.tail;
      const pre = clear(document.getElementById("log"));
      pre.textContent = log.tail;
      if (log.name) pre.append("\n", el("a", { href: `/run/${key}/logs/${encodeURIComponent(log.name)}` }, "whole file"));
    }
  }
  poll(update);
})();
