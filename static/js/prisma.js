/* Behaviour shared by all pages, kept out of the markup so that the Content
   Security Policy can forbid inline scripts and event handlers:
   - forms with data-confirm ask before they are sent,
   - buttons with data-action="print" print the page,
   - PRISMA.el builds DOM nodes for the other scripts.

   Output encoding rule for every script: text from the server (names, units,
   layer names, messages) never passes through innerHTML or a Leaflet tooltip or
   popup string. Build nodes with PRISMA.el (children given as strings become
   text nodes) or set textContent; a Leaflet tooltip or popup gets a node. */
(function () {
  "use strict";

  /* An element with attributes and children. Attribute values are set with
     setAttribute (never parsed as markup); "class" and "text" are shortcuts for
     className and textContent. Children may be nodes, strings (inserted as
     text), numbers, or null/undefined/false (skipped); arrays are flattened. */
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      const value = attrs[name];
      if (value === null || value === undefined || value === false) return;
      if (name === "class") node.className = String(value);
      else if (name === "text") node.textContent = String(value);
      else node.setAttribute(name, String(value));
    });
    append(node, children);
    return node;
  }

  function append(node, children) {
    if (children === null || children === undefined || children === false) return node;
    (Array.isArray(children) ? children : [children]).forEach(function (child) {
      if (Array.isArray(child)) append(node, child);
      else if (child === null || child === undefined || child === false) return;
      else if (child instanceof Node) node.appendChild(child);
      else node.appendChild(document.createTextNode(String(child)));
    });
    return node;
  }

  /* Poll a JSON status URL: show(data) is called with every answer and returns
     true while there is more to wait for; then poll asks again after `every` ms.
     A failed request (network, 5xx) is retried after 3 s: a progress page keeps
     going through a short outage. */
  function poll(url, show, every, first) {
    async function ask() {
      let data;
      try {
        const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
        if (!response.ok) throw new Error(String(response.status));
        data = await response.json();
      } catch (error) {
        setTimeout(ask, 3000);
        return;
      }
      if (show(data)) setTimeout(ask, every);
    }
    setTimeout(ask, first);
  }

  /* A small time-series chart of one unit from /api/values/series/ (its
     answer's first series), drawn as the server's charts draw it
     (explorer/graphics.py): the LOR reform as a grey band with a dotted line
     and its label, estimated values as hollow markers on dashed segments, and a
     legend naming them. The values follow as a table for screen readers and
     keyboard users. opts: { title, format(value) → text }. */
  const SVG = "http://www.w3.org/2000/svg";
  function svgEl(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, String(attrs[name])); });
    return node;
  }
  function isoText(iso) {
    const p = String(iso).split("-");
    return p[2] + "." + p[1] + "." + p[0];
  }
  function seriesChart(data, opts) {
    const options = opts || {};
    const format = options.format || function (v) { return String(v); };
    const series = (data.series || [])[0];
    const box = el("figure", { class: "series-chart", "data-testid": "series-chart" });
    if (!series) return box;
    const points = series.points.filter(function (p) { return p.value !== null; });
    const reform = data.reform || {};
    // The right margin holds the highest and lowest value.
    const W = 240, H = 90, L = 4, R = 30, T = 12, B = 14;
    const time = function (iso) { return new Date(iso + "T00:00:00Z").getTime(); };
    const dates = series.points.map(function (p) { return time(p.date); });
    const xmin = Math.min.apply(null, dates), xmax = Math.max.apply(null, dates);
    const values = points.map(function (p) { return p.value; });
    const ymin = Math.min.apply(null, values), ymax = Math.max.apply(null, values);
    const x = function (iso) { return L + (xmax > xmin ? (time(iso) - xmin) / (xmax - xmin) : 0.5) * (W - L - R); };
    const y = function (v) { return T + (ymax > ymin ? 1 - (v - ymin) / (ymax - ymin) : 0.5) * (H - T - B); };
    const svg = svgEl("svg", { viewBox: "0 0 " + W + " " + H, role: "img",
      "aria-label": (options.title || series.name) + ": " + (points.length ? isoText(points[0].date) + " – " + isoText(points[points.length - 1].date) : "") });
    const spansReform = reform.first_new && dates.length &&
      xmin <= time(reform.last_old) && xmax >= time(reform.first_new);
    if (spansReform) {
      const x0 = x(reform.last_old), x1 = x(reform.first_new);
      const g = svgEl("g", { "data-testid": "series-reform" });
      g.appendChild(svgEl("rect", { x: x0, y: T - 2, width: Math.max(x1 - x0, 1), height: H - T - B + 4, fill: "#737373", "fill-opacity": 0.25 }));
      g.appendChild(svgEl("line", { x1: x1, x2: x1, y1: T - 2, y2: H - B + 2, stroke: "#737373", "stroke-dasharray": "1 2" }));
      const label = svgEl("text", { x: x1 + 2, y: 9, "font-size": 8, fill: "#525252" });
      label.textContent = reform.label;
      g.appendChild(label);
      svg.appendChild(g);
    }
    const color = options.color || "#3182bd";
    // Consecutive dates with values are joined; a segment touching an estimated value is dashed.
    for (let i = 0; i + 1 < series.points.length; i++) {
      const a = series.points[i], b = series.points[i + 1];
      if (a.value === null || b.value === null) continue;
      const dashed = a.estimated || b.estimated;
      svg.appendChild(svgEl("line", Object.assign({ x1: x(a.date), y1: y(a.value), x2: x(b.date), y2: y(b.value),
        stroke: color, "stroke-width": 1.5 }, dashed ? { "stroke-dasharray": "3 2", "data-testid": "series-estimated-segment" } : {})));
    }
    points.forEach(function (p) {
      svg.appendChild(svgEl("circle", Object.assign({ cx: x(p.date), cy: y(p.value), r: 2.4, stroke: color, "stroke-width": 1.2,
        fill: p.estimated ? "#fff" : color }, p.estimated ? { "data-testid": "series-estimated-marker" } : {})));
    });
    [[ymax, T + 3], [ymin, H - B]].forEach(function (tick) {
      if (!points.length) return;
      const t = svgEl("text", { x: W - R + 4, y: tick[1], "font-size": 7, fill: "#525252" });
      t.textContent = format(tick[0]);
      svg.appendChild(t);
    });
    box.appendChild(svg);
    const estimated = points.some(function (p) { return p.estimated; });
    if (estimated) {
      box.appendChild(el("figcaption", { class: "series-legend", "data-testid": "series-estimated-legend" }, [
        el("span", { class: "key-estimated", "aria-hidden": "true" }), " " + reform.estimated_label]));
    }
    // Sources and licences travel with the numbers.
    if (data.sources) box.appendChild(el("p", { class: "series-sources muted", "data-testid": "series-sources", text: data.sources }));
    const rows = series.points.map(function (p) {
      return el("tr", null, [el("td", { text: isoText(p.date) }),
        el("td", { class: "num", text: p.value === null ? "–" : format(p.value) + (p.estimated ? " *" : "") })]);
    });
    box.appendChild(el("details", { class: "series-values" }, [
      el("summary", { text: options.valuesLabel || "Werte" }),
      el("table", { class: "data" }, el("tbody", null, rows)),
      estimated ? el("p", { class: "muted", text: "* " + reform.estimated_label }) : null,
    ]));
    return box;
  }

  window.PRISMA = Object.freeze({ el: el, append: append, poll: poll, seriesChart: seriesChart });

  document.addEventListener("submit", function (event) {
    const message = event.target.dataset ? event.target.dataset.confirm : null;
    if (message && !window.confirm(message)) event.preventDefault();
  });
  document.addEventListener("click", function (event) {
    const button = event.target.closest ? event.target.closest("[data-action='print']") : null;
    if (button) window.print();
  });
})();
