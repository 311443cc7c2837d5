"use strict";
(() => {
  const { el, fmt, duration, when, getJSON, poll, clear } = HPS;
  const tbody = document.querySelector("#runs tbody");

  function row(r) {
    const link = r.kind === "compare" ? `/compare/${r.key}` : `/run/${r.key}`;
    if (r.error) {
      return el("tr", { key: r.key }, el("td", { class: "st-failed" }, "cannot read: " + r.error),
        ...Array(9).fill(0).map(() => el("td", {})), el("td", {}, r.path));
    }
    if (r.kind === "compare") {
      return el("tr", { key: r.key, kind: "compare" },
        el("td", {}, el("a", { href: link }, r.problem || "?")), el("td", {}, r.algo),
        el("td", {}, r.seed), el("td", {}, el("span", { class: "status" }, "comparison")),
        el("td", { class: "num" }, `${r.runs} runs`), el("td", {}), el("td", {}), el("td", {}),
        el("td", {}, when(r.started)), el("td", {}), el("td", {}, r.path));
    }
    return el("tr", { key: r.key, kind: "run" },
      el("td", {}, el("a", { href: link }, r.problem || "?")), el("td", {}, r.algo), el("td", {}, fmt(r.seed)),
      el("td", {}, el("span", { class: "status " + r.status }, r.status)),
      el("td", { class: "num n-done" }, fmt(r.done)),
      el("td", { class: "num" + (r.failed ? " st-failed" : "") }, fmt(r.failed)),
      el("td", { class: "num" }, fmt(r.best)), el("td", { class: "num" }, fmt(r.spent)),
      el("td", {}, when(r.started)), el("td", { class: "num" }, duration(r.wall_s)),
      el("td", {}, r.path + (r.compare ? "  (in a comparison)" : "")));
  }

  poll(async () => {
    const runs = await getJSON("/api/runs");
    const rows = runs.map(row);
    clear(tbody).append(...rows);
    if (!rows.length) tbody.append(el("tr", {}, el("td", {}, "no runs yet")));
  });
})();
