/* Shared helpers. User strings only ever reach the DOM through textContent, and reach Plotly
   (whose labels understand a few HTML tags) through plotText, which escapes them. */
"use strict";
const HPS = (() => {
  const POLL_MS = 1000;

  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null) continue;
      if (k === "class") e.className = v;
      else if (k === "href") e.setAttribute("href", v);
      else if (k === "title") e.title = v;
      else e.dataset[k] = v;
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  function fmt(v) {
    if (v === null || v === undefined || v === "") return "";
    if (typeof v === "number") {
      if (Number.isInteger(v)) return String(v);
      return Number(v.toPrecision(6)).toString();
    }
    if (typeof v === "object") return JSON.stringify(v);
    return String(v);
  }

  function duration(s) {
    if (s === null || s === undefined) return "";
    s = Math.round(s);
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    return h ? `${h}h ${String(m).padStart(2, "0")}m` : m ? `${m}m ${String(sec).padStart(2, "0")}s` : `${sec}s`;
  }

  function when(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    if (isNaN(d)) return String(iso);
    const pad = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  }

  /* Plotly renders <b>, <br>, <a> ... in labels: escape so every user string shows as text. */
  function plotText(v) {
    return fmt(v).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;");
  }

  async function getJSON(url) {
    const r = await fetch(url, { cache: "no-store" });
    if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
    return r.json();
  }

  function live(ok, text) {
    const e = document.getElementById("live");
    if (!e) return;
    e.className = "live " + (ok ? "ok" : "bad");
    e.textContent = text || (ok ? "live" : "not reachable");
  }

  /* plotly.js (4.8 MB) loads asynchronously: counts and tables show before it is ready. */
  const plotlyReady = new Promise((resolve) => {
    if (window.Plotly) return resolve();
    const tag = document.getElementById("plotly-js");
    if (tag) tag.addEventListener("load", () => resolve());
    const wait = () => (window.Plotly ? resolve() : setTimeout(wait, 50));
    wait();
  });

  /* Call fn now and then every POLL_MS after it settles (never two at once). */
  function poll(fn) {
    let stopped = false;
    async function tick() {
      if (stopped) return;
      try {
        await fn();
        live(true, "live, updated " + new Date().toLocaleTimeString());
      } catch (err) {
        live(false, "not reachable: " + err.message);
      }
      setTimeout(tick, POLL_MS);
    }
    tick();
    return () => { stopped = true; };
  }

  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); return e; }

  function statusBadge(e, status) {
    e.className = "status " + (status || "");
    e.textContent = status || "";
  }

  const LAYOUT = {
    margin: { l: 60, r: 20, t: 40, b: 50 }, font: { size: 12 },
    paper_bgcolor: "#fff", plot_bgcolor: "#fff", showlegend: true,
    legend: { x: 1, xanchor: "right", y: 1, bgcolor: "rgba(255,255,255,0.75)" },
  };
  const CONFIG = { displaylogo: false, responsive: true, displayModeBar: false };

  function layout(extra) {
    return Object.assign({}, LAYOUT, extra);
  }

  function kv(tbody, obj) {
    clear(tbody);
    for (const [k, v] of Object.entries(obj)) {
      tbody.append(el("tr", {}, el("th", {}, k), el("td", {}, fmt(v))));
    }
  }

  return { plotlyReady, el, fmt, duration, when, plotText, getJSON, poll, clear, statusBadge, layout, CONFIG, kv, live };
})();
