"use strict";
(() => {
  const { el, fmt, plotText, getJSON, poll, clear, layout, CONFIG } = HPS;
  const key = document.getElementById("main").dataset.key;
  const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  let last = "";

  function rgba(hex, a) {
    const n = parseInt(hex.slice(1), 16);
    return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${a})`;
  }

  async function update() {
    const d = await getJSON(`/api/compare/${key}`);
    const sig = JSON.stringify(d);
    if (sig === last) return;
    await HPS.plotlyReady;
    last = sig;
    document.getElementById("cmp-title").textContent = `${d.problem}: ${d.algos.map((a) => a.algo).join(", ")}`;
    const regret = d.metric === "regret";
    const floor = 1e-12, traces = [];
    const y = (v) => (v === null ? null : regret ? Math.max(v, floor) : v);
    d.algos.forEach((a, i) => {
      const c = COLOURS[i % COLOURS.length];
      traces.push({ type: "scatter", mode: "lines", x: d.grid, y: a.hi.map(y), line: { width: 0 },
        showlegend: false, hoverinfo: "skip", legendgroup: plotText(a.algo) });
      traces.push({ type: "scatter", mode: "lines", x: d.grid, y: a.lo.map(y), line: { width: 0 }, fill: "tonexty",
        fillcolor: rgba(c, 0.2), name: plotText(`${a.algo} IQR`), showlegend: false, hoverinfo: "skip",
        legendgroup: plotText(a.algo) });
      traces.push({ type: "scatter", mode: "lines", x: d.grid, y: a.median.map(y), line: { color: c, width: 2 },
        name: plotText(`${a.algo} (${a.seeds} seeds)`), legendgroup: plotText(a.algo) });
    });
    const xt = d.unit === "evaluations" ? "evaluations" : `resource spent (a full evaluation is ${fmt(d.max_resource)})`;
    Plotly.react("fig-compare", traces, layout({
      title: { text: plotText(`${d.problem}: median and interquartile range over seeds`), font: { size: 14 } },
      xaxis: { title: { text: xt } },
      yaxis: { title: { text: plotText(`${regret ? "regret" : "best " + d.objective} (full-budget evaluations)`) },
        type: regret ? "log" : "linear" },
      shapes: [{ type: "line", x0: d.budget, x1: d.budget, yref: "paper", y0: 0, y1: 1, line: { dash: "dot", color: "#888" } }],
    }), CONFIG);
    const rows = d.table;
    const thead = clear(document.querySelector("#cmp-table thead"));
    const tbody = clear(document.querySelector("#cmp-table tbody"));
    if (rows.length) {
      const cols = Object.keys(rows[0]);
      thead.append(el("tr", {}, ...cols.map((c) => el("th", {}, c))));
      for (const r of rows) tbody.append(el("tr", {}, ...cols.map((c) => el("td", { class: typeof r[c] === "number" ? "num" : "" }, fmt(r[c])))));
    }
    document.getElementById("cmp-note").textContent = `budget ${fmt(d.budget)} ${d.unit} per run; ${d.metric}: median over seeds, q25 and q75 the interquartile range`;
    const ul = clear(document.getElementById("cmp-runs"));
    for (const a of d.algos) for (const r of a.runs) {
      ul.append(el("li", {}, r.key ? el("a", { href: `/run/${r.key}` }, r.name) : r.name));
    }
  }
  poll(update);
})();
