"use strict";
(() => {
  const { el, fmt, duration, when, plotText, getJSON, poll, clear, layout, CONFIG } = HPS;
  const key = document.getElementById("main").dataset.key;
  const api = `/api/run/${key}`;
  const state = {
    meta: null, trials: [], curve: null, since: 0,
    table: { page: 0, size: 50, sort: "", desc: false, status: "", total: 0 },
    scattersBuilt: false, reportsAt: -1, lastTotal: -1, hasReports: false, importanceAt: -Infinity,
  };
  const T = { id: 0, config: 1, bracket: 2, rung: 3, budget: 4, status: 5, obj: 6, params: 7 };
  /* At most this many points per scatter / lines in the parallel coordinates: beyond, the best quarter
     and an even sample of the rest (the curves of the best so far stay exact). */
  const MAX_POINTS = 1000, MAX_LINES = 500;
  const pv = (t, name) => (t[T.params][name] === undefined ? null : t[T.params][name]);

  function sample(trials, max) {
    if (trials.length <= max) return { shown: trials, note: "" };
    const sign = state.meta.direction === "minimize" ? 1 : -1;
    const byRank = trials.slice().sort((a, b) => sign * (a[T.obj] - b[T.obj]));
    const nBest = Math.floor(max / 4), rest = byRank.slice(nBest), step = rest.length / (max - nBest);
    const shown = byRank.slice(0, nBest);
    for (let k = 0; k < max - nBest; k++) shown.push(rest[Math.floor(k * step)]);
    return { shown, note: ` (${max} of ${trials.length} shown: the best ${nBest} and an even sample)` };
  }

  // ---- facts line -----------------------------------------------------------------------
  function facts(meta) {
    const s = meta.summary, dl = clear(document.getElementById("facts"));
    const add = (k, v) => dl.append(el("div", {}, el("dt", {}, k), el("dd", { [k.replace(/\W/g, "")]: "" }, v)));
    HPS.statusBadge(document.getElementById("status"), s.status);
    add("done", fmt(s.done));
    add("failed", fmt(s.failed));
    add("running", fmt(s.running));
    if (meta.multi_objective) {
      add("Pareto front", fmt(s.front));
      add("objectives", Object.entries(meta.objectives).map(([n, d]) => `${n} (${d})`).join(", "));
    } else {
      add("best " + meta.objective, fmt(s.best));
      add("direction", meta.direction + (meta.optimum !== null ? `, optimum ${fmt(meta.optimum)}` : ""));
    }
    if (s.spent !== null) add("resource spent", fmt(s.spent));
    add("started", when(s.started));
    add("wall time", duration(s.wall_s));
    dl.querySelector("div:first-child dd").id = "n-done";
  }

  // ---- best so far ------------------------------------------------------------------------
  function floorOf(values) {
    let m = Infinity;
    for (const v of values) if (v !== null && v > 0 && v < m) m = v;
    return m === Infinity ? 1e-12 : m / 10;
  }

  function bestFigure(div, xKey, xTitle) {
    const c = state.curve, meta = state.meta, regret = meta.optimum !== null;
    let best = regret ? c.regret : c.best;
    let dots = regret ? c.obj_regret : state.trials.map((t) => (t[T.status] === "done" ? t[T.obj] : null));
    if (regret) {
      const f = floorOf(best.concat(dots));
      best = best.map((v) => (v === null ? null : Math.max(v, f)));
      dots = dots.map((v) => (v === null ? null : Math.max(v, f)));
    }
    const x = xKey === "n" ? c.spent.map((_, i) => i + 1) : c[xKey];
    // The step line only needs the points where the incumbent changes (and the last one).
    const bx = [], by = [];
    best.forEach((v, i) => {
      if (i === best.length - 1 || v !== best[i - 1]) { bx.push(x[i]); by.push(v); }
    });
    // Dots: at most MAX_POINTS, evenly spread.
    const dx = [], dy = [], every = Math.max(1, Math.ceil(x.length / MAX_POINTS));
    for (let i = 0; i < x.length; i += every) { dx.push(x[i]); dy.push(dots[i]); }
    const traces = [
      { type: "scatter", mode: "markers", name: every > 1 ? `evaluations (every ${every}th)` : "evaluations",
        x: dx, y: dy, marker: { size: 5, color: "rgba(120,120,120,0.45)" }, hoverinfo: "x+y" },
      { type: "scatter", mode: "lines", line: { shape: "hv", width: 2.5, color: "#1f77b4" },
        name: regret ? "best so far (regret)" : "best so far", x: bx, y: by },
    ];
    const ytitle = regret ? `regret of ${meta.objective} (optimum ${fmt(meta.optimum)})`
      : `${meta.objective} (${meta.direction})`;
    Plotly.react(div, traces, layout({
      title: { text: xKey === "n" ? "best so far vs evaluations" : "best so far vs resource", font: { size: 14 } },
      xaxis: { title: { text: xTitle } },
      yaxis: { title: { text: plotText(ytitle) }, type: regret ? "log" : "linear" },
    }), CONFIG);
  }

  // ---- multi-objective: the front and the hypervolume ---------------------------------------------
  /* Two objectives: every evaluation the front is taken from, dominated ones faded, the front joined by a
     step line; three or more: parallel coordinates of the front (each axis between the front's min and max). */
  function frontFigure(p) {
    const div = document.getElementById("fig-front"), names = Object.keys(p.objectives);
    const label = (n) => plotText(`${n} (${p.objectives[n]})`);
    const where = p.multi_fidelity ? " at the full budget" : "";
    document.getElementById("pareto-note").textContent =
      `${p.front.length} Pareto-optimal of ${p.points.length} evaluations${where}; reference point ` +
      (p.reference ? `(${names.map((n, i) => `${n} ${fmt(p.reference[i])}`).join(", ")}), ${p.reference_source}` : "none yet");
    const onFront = p.points.filter((q) => q[2]), others = p.points.filter((q) => !q[2]);
    if (names.length === 2) {
      // by the first loss: a maximised objective's loss is its negative
      const s0 = p.objectives[names[0]] === "maximize" ? -1 : 1, s1 = p.objectives[names[1]] === "maximize" ? -1 : 1;
      const sorted = onFront.slice().sort((a, b) => s0 * (a[1][0] - b[1][0]) || s1 * (a[1][1] - b[1][1]));
      const traces = [
        { type: "scatter", mode: "markers", name: "dominated", x: others.map((q) => q[1][0]), y: others.map((q) => q[1][1]),
          text: others.map((q) => `trial ${q[0]}`), marker: { size: 5, color: "rgba(120,120,120,0.35)" } },
        { type: "scatter", mode: "lines+markers", name: `Pareto front (${sorted.length})`, line: { shape: "hv", width: 2, color: "#1f77b4" },
          x: sorted.map((q) => q[1][0]), y: sorted.map((q) => q[1][1]), text: sorted.map((q) => `trial ${q[0]}`),
          marker: { size: 8, color: "#1f77b4" } },
      ];
      Plotly.react(div, traces, layout({ title: { text: "Pareto front", font: { size: 14 } },
        xaxis: { title: { text: label(names[0]) } }, yaxis: { title: { text: label(names[1]) } } }), CONFIG);
      return;
    }
    const lo = names.map((_, i) => Math.min(...onFront.map((q) => q[1][i])));
    const hi = names.map((_, i) => Math.max(...onFront.map((q) => q[1][i])));
    const traces = onFront.map((q, k) => ({ type: "scatter", mode: "lines+markers", name: `trial ${q[0]}`,
      x: names.map((_, i) => i), y: q[1].map((v, i) => (v - lo[i]) / (hi[i] - lo[i] || 1)),
      line: { width: 1.2 }, marker: { size: 4 }, showlegend: k < 10 }));
    Plotly.react(div, traces, layout({ title: { text: "Pareto front, parallel coordinates", font: { size: 14 } },
      xaxis: { tickvals: names.map((_, i) => i), ticktext: names.map((n, i) => `${label(n)}<br>${fmt(lo[i])} .. ${fmt(hi[i])}`) },
      yaxis: { tickvals: [0, 1], ticktext: ["front's min", "front's max"] } }), CONFIG);
  }

  function hypervolumeFigure(div, p, byResource, xTitle) {
    const regret = p.hypervolume_optimum !== null && p.regret;
    let ys = regret ? p.regret : p.hypervolume;
    if (regret) { const f = floorOf(ys); ys = ys.map((v) => Math.max(v, f)); }
    const x = byResource ? p.spent : ys.map((_, i) => i + 1);
    Plotly.react(div, [{ type: "scatter", mode: "lines", line: { shape: "hv", width: 2.5, color: "#1f77b4" },
      name: regret ? "hypervolume regret" : "hypervolume", x, y: ys }], layout({
      title: { text: (regret ? "hypervolume regret" : "hypervolume") + (byResource ? " vs resource" : " vs evaluations"),
        font: { size: 14 } },
      xaxis: { title: { text: xTitle } },
      yaxis: { title: { text: regret ? `regret (optimum ${fmt(p.hypervolume_optimum)})` : "hypervolume of the front" },
        type: regret ? "log" : "linear" },
    }), CONFIG);
  }

  async function pareto(xr) {
    const p = await getJSON(`${api}/pareto`);
    document.getElementById("sec-pareto").hidden = false;
    if (!p.points || !p.points.length) return;
    frontFigure(p);
    hypervolumeFigure("fig-best-n", p, false, "finished evaluations");
    hypervolumeFigure("fig-best-r", p, true, xr);
  }

  // ---- parameters -----------------------------------------------------------------------------
  function dimSpec(name) {
    return state.meta.dims.find((d) => d.name === name) || { name };
  }

  function levels(spec) {
    return spec.choices || spec.values || null;
  }

  function doneTrials() {
    return state.trials.filter((t) => t[T.status] === "done" && t[T.obj] !== null);
  }

  /* Parallel coordinates drawn as SVG lines (one path per colour band), not Plotly's WebGL parcoords:
     WebGL is often missing on cluster login nodes, remote desktops and headless browsers. */
  const VIRIDIS = ["#440154", "#414487", "#2a788e", "#22a884", "#7ad151", "#fde725"];

  function axisOf(name, spec, values) {
    const lv = levels(spec);
    if (lv) {
      const keys = lv.map((v) => JSON.stringify(v)), n = Math.max(lv.length - 1, 1);
      return { label: name, pos: (v) => keys.indexOf(JSON.stringify(v)) / n,
        ticks: lv.map((v, j) => [j / n, fmt(v)]) };
    }
    let lo = spec.low, hi = spec.high;
    const nums = values.filter((v) => typeof v === "number");
    if (lo === undefined || hi === undefined) { lo = Math.min(...nums); hi = Math.max(...nums); }
    if (spec.prior === "log-uniform" && lo > 0) {
      const L = Math.log10(lo), H = Math.log10(hi);
      return { label: name + " (log)", pos: (v) => (v > 0 ? (Math.log10(v) - L) / (H - L || 1) : null),
        ticks: [[0, fmt(lo)], [1, fmt(hi)]] };
    }
    return { label: name, pos: (v) => (typeof v === "number" ? (v - lo) / (hi - lo || 1) : null),
      ticks: [[0, fmt(lo)], [1, fmt(hi)]] };
  }

  function parcoords() {
    const meta = state.meta, all = doneTrials(), div = document.getElementById("fig-parcoords");
    if (!all.length) { Plotly.purge(div); return; }
    const { shown: done, note } = sample(all, MAX_LINES);
    const ys = done.map((t) => t[T.obj]);
    const axes = meta.params.map((name, i) => axisOf(name, dimSpec(name), done.map((t) => pv(t, name))));
    axes.push(axisOf(meta.objective, {}, ys));
    // Colour bands by rank: the best sixth is drawn last, on top.
    const order = done.map((_, k) => k).sort((a, b) => (meta.direction === "minimize" ? ys[b] - ys[a] : ys[a] - ys[b]));
    const bands = VIRIDIS.map(() => ({ x: [], y: [] }));
    order.forEach((k, r) => {
      const band = bands[Math.min(VIRIDIS.length - 1, Math.floor((r * VIRIDIS.length) / order.length))];
      const t = done[k];
      axes.forEach((ax, i) => {
        band.x.push(i);
        band.y.push(ax.pos(i < meta.params.length ? pv(t, meta.params[i]) : t[T.obj]));
      });
      band.x.push(null); band.y.push(null);
    });
    const traces = bands.map((b, j) => ({ type: "scatter", mode: "lines", x: b.x, y: b.y, hoverinfo: "skip",
      line: { color: VIRIDIS[j], width: 1 }, opacity: 0.55, connectgaps: false,
      name: j === 0 ? "worst sixth" : j === VIRIDIS.length - 1 ? "best sixth" : `sixth ${j + 1}`,
      showlegend: j === 0 || j === VIRIDIS.length - 1 }));
    const shapes = axes.map((_, i) => ({ type: "line", x0: i, x1: i, y0: 0, y1: 1, line: { color: "#555", width: 1 } }));
    const notes = [];
    axes.forEach((ax, i) => {
      notes.push({ x: i, y: 1.1, text: plotText(ax.label), showarrow: false, font: { size: 12 } });
      for (const [p, text] of ax.ticks) {
        notes.push({ x: i, y: p, text: plotText(text), showarrow: false, xanchor: "left", xshift: 3,
          font: { size: 10, color: "#444" }, bgcolor: "rgba(255,255,255,0.7)" });
      }
    });
    Plotly.react(div, traces, layout({
      title: { text: "parallel coordinates (one line per successful evaluation)" + note, font: { size: 14 } },
      xaxis: { visible: false, range: [-0.2, axes.length - 0.6] }, yaxis: { visible: false, range: [-0.05, 1.15] },
      shapes, annotations: notes, margin: { l: 20, r: 20, t: 40, b: 30 },
      legend: { orientation: "h", x: 1, xanchor: "right", y: 0, yanchor: "top" } }), CONFIG);
  }

  /* One scatter per parameter, drawn only once scrolled into view (and again when new data came). */
  const drawn = new Map(); // param index -> data version drawn
  let version = 0;
  const seen = new IntersectionObserver((entries) => {
    for (const e of entries) if (e.isIntersecting) drawScatter(Number(e.target.dataset.param));
  }, { rootMargin: "200px" });

  function scatters() {
    const meta = state.meta, box = document.getElementById("scatters");
    if (!state.scattersBuilt) {
      clear(box);
      meta.params.forEach((_, i) => {
        const div = el("div", { class: "fig small", param: String(i) });
        box.append(div);
        seen.observe(div);
      });
      state.scattersBuilt = true;
    }
    version++;
    state.sampled = null;
    box.querySelectorAll("[data-param]").forEach((div) => {
      const r = div.getBoundingClientRect();
      if (r.bottom > -200 && r.top < window.innerHeight + 200) drawScatter(Number(div.dataset.param));
    });
  }

  function drawScatter(i) {
    if (drawn.get(i) === version) return;
    drawn.set(i, version);
    const meta = state.meta, name = meta.params[i], spec = dimSpec(name), lv = levels(spec);
    if (!state.sampled) state.sampled = sample(doneTrials(), MAX_POINTS);
    const { shown: done, note } = state.sampled;
    const byBudget = meta.multi_fidelity && done.some((t) => t[T.budget] !== null);
    const div = document.querySelector(`#scatters [data-param="${i}"]`);
    const xs = done.map((t) => (lv ? plotText(pv(t, name)) : pv(t, name)));
    const marker = { size: 6, opacity: 0.75 };
    if (byBudget) Object.assign(marker, { color: done.map((t) => t[T.budget]), colorscale: "Viridis",
      showscale: true, colorbar: { title: { text: "budget" }, thickness: 12 } });
    const xaxis = { title: { text: plotText(`${name} (${spec.kind || ""})`) } };
    if (lv) Object.assign(xaxis, { type: "category", categoryorder: "array", categoryarray: lv.map(plotText) });
    else if (spec.prior === "log-uniform") xaxis.type = "log";
    Plotly.react(div, [{ type: "scatter", mode: "markers", x: xs, y: done.map((t) => t[T.obj]), marker,
      text: done.map((t) => `trial ${t[T.id]}`), hoverinfo: "x+y+text" }],
    layout({ title: { text: plotText(`${meta.objective} vs ${name}`) + (note ? ` (${done.length} shown)` : ""),
      font: { size: 13 } }, xaxis,
      yaxis: { title: { text: plotText(meta.objective) } }, showlegend: false,
      margin: { l: 55, r: 15, t: 35, b: 45 } }), CONFIG);
  }

  function rungs() {
    const meta = state.meta, sec = document.getElementById("sec-rungs");
    const done = doneTrials().filter((t) => t[T.budget] !== null);
    if (!meta.multi_fidelity || !done.length) { sec.hidden = true; return; }
    sec.hidden = false;
    const byConfig = new Map();
    for (const t of done) {
      if (!byConfig.has(t[T.config])) byConfig.set(t[T.config], []);
      byConfig.get(t[T.config]).push(t);
    }
    const byBracket = new Map();
    for (const ts of byConfig.values()) {
      ts.sort((a, b) => a[T.budget] - b[T.budget] || a[T.id] - b[T.id]);
      const b = ts[0][T.bracket];
      if (!byBracket.has(b)) byBracket.set(b, { x: [], y: [], text: [] });
      const tr = byBracket.get(b);
      for (const t of ts) { tr.x.push(t[T.budget]); tr.y.push(t[T.obj]); tr.text.push(`config ${t[T.config]}, trial ${t[T.id]}`); }
      tr.x.push(null); tr.y.push(null); tr.text.push("");
    }
    const traces = [...byBracket.entries()].sort((a, b) => (a[0] ?? -1) - (b[0] ?? -1)).map(([b, tr]) => ({
      type: "scatter", mode: "lines+markers", name: b === null ? "configurations" : `bracket ${b}`,
      x: tr.x, y: tr.y, text: tr.text, hoverinfo: "x+y+text", connectgaps: false,
      line: { width: 1 }, marker: { size: 5 }, opacity: 0.7 }));
    const budgets = done.map((t) => t[T.budget]);
    const lo = Math.min(...budgets), hi = Math.max(...budgets);
    Plotly.react("fig-rungs", traces, layout({
      title: { text: "rungs: budget vs objective (lines join a configuration's rungs)", font: { size: 14 } },
      xaxis: { title: { text: "budget (resource)" }, type: lo > 0 && hi / lo >= 9 ? "log" : "linear" },
      yaxis: { title: { text: plotText(`${meta.objective} (${meta.direction})`) } } }), CONFIG);
  }

  async function curves() {
    const data = await getJSON(`${api}/reports`);
    const sec = document.getElementById("sec-curves");
    const reps = data.reports.filter((r) => r.reports.length);
    if (!reps.length) { sec.hidden = true; return; }
    sec.hidden = false;
    const meta = state.meta;
    const names = new Set();
    for (const r of reps) for (const m of r.reports) for (const k of Object.keys(m)) if (k !== "step") names.add(k);
    const metric = names.has(meta.objective) ? meta.objective : [...names][0];
    const running = new Set(meta.running_ids);
    const done = { x: [], y: [], text: [] }, live = { x: [], y: [], text: [] };
    for (const r of reps) {
      const tr = running.has(r.trial_id) ? live : done;
      r.reports.forEach((m, j) => { tr.x.push(m.step ?? j + 1); tr.y.push(m[metric] ?? null); tr.text.push(`trial ${r.trial_id}`); });
      tr.x.push(null); tr.y.push(null); tr.text.push("");
    }
    Plotly.react("fig-curves", [
      { type: "scatter", mode: "lines", name: "finished", x: done.x, y: done.y, text: done.text,
        line: { width: 1, color: "rgba(31,119,180,0.5)" }, connectgaps: false, hoverinfo: "x+y+text" },
      { type: "scatter", mode: "lines+markers", name: "running", x: live.x, y: live.y, text: live.text,
        line: { width: 2, color: "#d62728" }, connectgaps: false, hoverinfo: "x+y+text" },
    ], layout({ title: { text: plotText(`learning curves: ${metric} by step`), font: { size: 14 } },
      xaxis: { title: { text: "step" } }, yaxis: { title: { text: plotText(metric) } } }), CONFIG);
  }

  // ---- importance (fANOVA, computed by the server once per snapshot) ----------------------------
  const IMPORTANCE_EVERY_MS = 10000; // on a live run, at most this often
  async function importance() {
    const data = await getJSON(`${api}/importance`);
    state.importanceAt = Date.now();
    const note = document.getElementById("importance-note"), box = clear(document.getElementById("marginals"));
    if (data.error) {
      note.textContent = data.error;
      clear(document.getElementById("fig-importance"));
      return;
    }
    const main = data.results[0];
    const names = main.parameters.map((p) => p.name).slice(0, 12);
    const pairs = main.pairs.filter((p) => p.share > 0).slice(0, 3);
    const labels = names.concat(pairs.map((p) => p.names.join(" : ")));
    const traces = data.results.map((r) => {
      const byName = Object.fromEntries(r.parameters.map((p) => [p.name, p]));
      const byPair = Object.fromEntries(r.pairs.map((p) => [p.names.join(" : "), p]));
      const rows = labels.map((l) => byName[l] || byPair[l] || { share: 0, spread: 0 });
      return { type: "bar", orientation: "h", y: labels.map(plotText), x: rows.map((p) => p.share),
        error_x: { type: "data", array: rows.map((p) => p.spread), visible: true },
        name: r.budget === null ? "share" : `budget ${fmt(r.budget)} (${r.evaluations} evaluations)` };
    });
    note.textContent = `Share of the variance of ${state.meta.objective} each hyperparameter explains alone ` +
      `(pairs: beyond their main effects), by functional ANOVA over a random forest of ${main.trees} trees ` +
      `fitted to ${main.evaluations} successful evaluations` +
      (main.budget === null ? "" : ` at budget ${fmt(main.budget)}`) + "; error bars: spread over the trees.";
    Plotly.react("fig-importance", traces, layout({
      barmode: "group", showlegend: data.results.length > 1, height: 120 + 28 * labels.length * Math.sqrt(traces.length),
      yaxis: { autorange: "reversed", automargin: true }, xaxis: { title: { text: "share of the variance" }, rangemode: "tozero" },
      title: { text: "importance (fANOVA)", font: { size: 14 } } }), CONFIG);
    const ylabel = plotText(`predicted ${state.meta.objective} (${state.meta.direction})`);
    // Every box first: the grid's columns are settled before Plotly measures one.
    const divs = data.marginals.map((_, i) => {
      const div = el("div", { class: "fig" });
      div.id = `fig-marginal-${i}`;
      box.append(div);
      return div;
    });
    data.marginals.forEach((m, i) => {
      const div = divs[i];
      const where = m.active_share < 1 ? ` (where active: ${Math.round(100 * m.active_share)}%)` : "";
      const title = { text: plotText(`marginal of ${m.names.join(" and ")}${where}`), font: { size: 13 } };
      const isNum = (k) => !m.categorical[k] && m.values[k].every((v) => typeof v === "number");
      const axis = (k) => ({ title: { text: plotText(m.names[k]) }, type: isNum(k) ? (m.log_scale[k] ? "log" : "linear") : "category" });
      const xs = (k) => (isNum(k) ? m.values[k] : m.values[k].map((v) => plotText(v)));
      let tr;
      if (m.names.length === 2) {
        const z = m.values[1].map((_, j) => m.mean.map((row) => row[j]));
        tr = [{ type: "heatmap", x: xs(0), y: xs(1), z, colorscale: "Viridis", reversescale: state.meta.direction === "minimize",
          colorbar: { title: { text: plotText(`predicted ${state.meta.objective}`), side: "right" }, thickness: 12 } }];
        Plotly.react(div, tr, layout({ title, xaxis: axis(0), yaxis: axis(1) }), CONFIG);
        return;
      }
      if (isNum(0) && m.values[0].length > 12) {
        const up = m.mean.map((v, j) => v + m.spread[j]), lo = m.mean.map((v, j) => v - m.spread[j]);
        tr = [{ type: "scatter", mode: "lines", x: m.values[0], y: lo, line: { width: 0 }, showlegend: false, hoverinfo: "skip" },
          { type: "scatter", mode: "lines", x: m.values[0], y: up, fill: "tonexty", line: { width: 0 },
            fillcolor: "rgba(31,119,180,0.25)", name: "± spread over trees", hoverinfo: "skip" },
          { type: "scatter", mode: "lines", x: m.values[0], y: m.mean, line: { color: "#1f77b4", width: 2 }, name: "marginal" }];
      } else {
        tr = [{ type: isNum(0) ? "scatter" : "bar", mode: "lines+markers", x: xs(0), y: m.mean,
          error_y: { type: "data", array: m.spread, visible: true }, name: "marginal" }];
      }
      Plotly.react(div, tr, layout({ title, xaxis: axis(0), yaxis: { title: { text: ylabel } }, showlegend: false }), CONFIG);
    });
  }

  // ---- table ---------------------------------------------------------------------------------
  async function table() {
    const t = state.table;
    const q = new URLSearchParams({ page: t.page, size: t.size, sort: t.sort, desc: t.desc ? 1 : 0, status: t.status });
    const data = await getJSON(`${api}/table?${q}`);
    t.total = data.total;
    const thead = clear(document.querySelector("#results thead"));
    const tbody = clear(document.querySelector("#results tbody"));
    const tr = el("tr");
    data.columns.forEach((c) => {
      const th = el("th", { class: "sortable" + (t.sort === c ? (t.desc ? " sorted-desc" : " sorted-asc") : ""), col: c }, c);
      th.addEventListener("click", () => {
        if (t.sort === c) t.desc = !t.desc; else { t.sort = c; t.desc = false; }
        t.page = 0; table();
      });
      tr.append(th);
    });
    thead.append(tr);
    const si = data.columns.indexOf("status");
    for (const r of data.rows) {
      const row = el("tr", { trial: String(r[0]) });
      r.forEach((v, j) => {
        const td = el("td", { class: typeof v === "number" ? "num" : j === si ? "st-" + v : "" });
        if (j === 0) td.append(el("a", { href: `/run/${key}/trial/${v}` }, fmt(v)));
        else td.textContent = fmt(v);
        row.append(td);
      });
      tbody.append(row);
    }
    const pages = Math.max(1, Math.ceil(t.total / t.size));
    document.getElementById("pageinfo").textContent = `page ${t.page + 1} of ${pages} (${t.total} rows)`;
    document.getElementById("prev").disabled = t.page === 0;
    document.getElementById("next").disabled = t.page + 1 >= pages;
    if (!performance.getEntriesByName("hps-table").length) performance.mark("hps-table"); // for the benchmark
  }

  document.getElementById("f-status").addEventListener("change", (e) => {
    state.table.status = e.target.value; state.table.page = 0; table();
  });
  document.getElementById("prev").addEventListener("click", () => { state.table.page--; table(); });
  document.getElementById("next").addEventListener("click", () => { state.table.page++; table(); });

  // ---- the loop --------------------------------------------------------------------------------
  async function update() {
    const meta = await getJSON(api);
    const first = state.meta === null;
    state.meta = meta;
    facts(meta);
    const pts = await getJSON(`${api}/points?since=${state.since}`);
    if (pts.total < state.since) { // a different store: start again
      state.since = 0; state.trials = []; state.curve = null;
      return;
    }
    const fresh = pts.trials.length > 0 || first;
    if (pts.trials.length) {
      state.trials.push(...pts.trials);
      if (!state.curve) state.curve = pts.curve;
      else for (const k of Object.keys(pts.curve)) state.curve[k].push(...pts.curve[k]);
      state.since = pts.total;
    } else if (!state.curve) state.curve = pts.curve;
    const total = meta.finished + meta.running_ids.length;
    if (fresh || total !== state.lastTotal || meta.running_ids.length) await table();
    if (fresh) {
      const xr = meta.has_budget ? "resource spent (budget units)" : "time spent in evaluations (s)";
      // One figure per frame: the page stays responsive and fills in top-down.
      const frame = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
      await frame();
      await HPS.plotlyReady;
      if (meta.multi_objective) {
        await pareto(xr);
      } else {
        bestFigure("fig-best-n", "n", "finished evaluations");
        await frame();
        bestFigure("fig-best-r", "spent", xr);
      }
      await frame();
      rungs();
      await frame();
      parcoords();
      await frame();
      scatters();
      if (!performance.getEntriesByName("hps-figures").length) performance.mark("hps-figures");
      if (Date.now() - state.importanceAt >= IMPORTANCE_EVERY_MS) {
        await frame();
        await importance();
      }
    }
    if (fresh || total !== state.lastTotal || meta.running_ids.length) {
      state.lastTotal = total;
      await HPS.plotlyReady;
      await curves();
    }
  }

  poll(update);
})();
