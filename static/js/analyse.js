/* Join and analyse: several columns side by side, derived columns, conditions and
   server-rendered charts of one selection. The server evaluates everything; this
   script only keeps the selection and shows what the server returns. */
(function () {
  "use strict";
  const cfg = JSON.parse(document.getElementById("analyse-config").textContent);
  const t = cfg.text;
  const lang = document.documentElement.lang || "de";
  const $ = function (id) { return document.getElementById(id); };
  const els = {
    level: $("level"), within: $("within"), variable: $("variable"), columns: $("column-list"),
    derivedLabel: $("derived-label"), derivedFormula: $("derived-formula"), derived: $("derived-list"),
    condColumn: $("cond-column"), condOp: $("cond-op"), condValue: $("cond-value"),
    conditions: $("condition-list"), error: $("analyse-error"), count: $("match-count"),
    table: $("analyse-table"), exports: $("exports"), saveQuery: $("save-query"),
  };
  const state = { level: "planungsraum", within: "", columns: [], derived: [], conditions: [], variables: [], result: null, sort: null };
  let request = 0;

  function fmt(value) {
    if (value === null || value === undefined) return "–";
    const d = Math.abs(value) >= 100 ? 0 : 1;
    return value.toLocaleString(lang, { minimumFractionDigits: 0, maximumFractionDigits: d });
  }
  function option(select, value, label) {
    const o = document.createElement("option");
    o.value = value; o.textContent = label; select.appendChild(o);
  }
  function number(text) {
    return Number(String(text).trim().replace(/\./g, "").replace(",", "."));
  }
  async function getJson(url, params) {
    const full = params ? url + "?" + new URLSearchParams(params).toString() : url;
    const response = await fetch(full, { credentials: "same-origin", headers: { Accept: "application/json" } });
    const data = await response.json().catch(function () { return {}; });
    if (!response.ok) throw new Error(Object.values(data).flat().join(" ") || t.error);
    return data;
  }

  function selection() {
    return { level: state.level, columns: state.columns, date: null, derived: state.derived, conditions: state.conditions, within: state.within };
  }
  function labelOf(key) {
    const v = state.variables.find(function (x) { return x.key === key; });
    const d = state.derived.find(function (x) { return x.key === key; });
    return d ? d.label : (v ? v.name : key);
  }
  function title() {
    return cfg.text.title + ": " + state.columns.concat(state.derived.map(function (d) { return d.key; })).map(labelOf).join(", ");
  }

  function chip(list, text, testid, onRemove) {
    const li = document.createElement("li");
    li.dataset.testid = testid;
    li.setAttribute("data-testid", testid);
    const span = document.createElement("span");
    span.textContent = text;
    const button = document.createElement("button");
    button.type = "button"; button.textContent = t.remove;
    button.addEventListener("click", onRemove);
    li.appendChild(span); li.appendChild(button); list.appendChild(li);
  }
  function renderLists() {
    els.columns.replaceChildren();
    state.columns.forEach(function (key) {
      chip(els.columns, labelOf(key) + " (" + key + ")", "column-" + key, function () {
        state.columns = state.columns.filter(function (k) { return k !== key; });
        refresh();
      });
    });
    els.derived.replaceChildren();
    state.derived.forEach(function (d) {
      chip(els.derived, d.label + " = " + d.formula, "derived-" + d.key, function () {
        state.derived = state.derived.filter(function (x) { return x !== d; });
        state.conditions = state.conditions.filter(function (c) { return c.column !== d.key; });
        refresh();
      });
    });
    els.conditions.replaceChildren();
    state.conditions.forEach(function (c, i) {
      chip(els.conditions, labelOf(c.column) + " " + c.op + " " + fmt(c.value), "condition-" + i, function () {
        state.conditions.splice(i, 1);
        refresh();
      });
    });
  }

  function fillColumnSelects(columns) {
    [els.condColumn].concat(Array.from(document.querySelectorAll("select[data-role]"))).forEach(function (select) {
      const current = select.value;
      select.replaceChildren();
      columns.forEach(function (c) {
        if (select.dataset.role === "variable" && c.derived) return;
        option(select, c.key, c.label);
      });
      if (Array.prototype.some.call(select.options, function (o) { return o.value === current; })) select.value = current;
    });
    const y = $("scatter-y");
    if (y.options.length > 1 && y.value === $("scatter-x").value) y.selectedIndex = 1;
  }

  function renderTable(data) {
    const head = els.table.tHead, body = els.table.tBodies[0];
    const heads = [["code", cfg.text.key], ["name", cfg.text.name]].concat(data.columns.map(function (c) {
      return [c.key, c.label + (c.unit ? " (" + c.unit + ")" : "")];
    }));
    // Sortable headers are buttons (keyboard), aria-sort tells the current order.
    head.replaceChildren(PRISMA.el("tr", null, heads.map(function (h) {
      const sorted = state.sort && state.sort.key === h[0];
      return PRISMA.el("th", { scope: "col", "aria-sort": sorted ? (state.sort.dir > 0 ? "ascending" : "descending") : null },
        PRISMA.el("button", { type: "button", class: "sort", "data-key": h[0], text: h[1] }));
    })));
    body.replaceChildren();
    const conditional = state.conditions.length > 0;
    sortedRows(data.rows, state.sort).forEach(function (row) {
      const r = document.createElement("tr");
      r.dataset.code = row.code;
      if (conditional && row.match) { r.classList.add("match"); r.dataset.match = "1"; }
      [row.code, row.name].forEach(function (text) {
        const td = document.createElement("td"); td.textContent = text; r.appendChild(td);
      });
      data.columns.forEach(function (c) {
        const td = document.createElement("td");
        td.className = "num";
        td.dataset.column = c.key;
        if (row[c.key] !== null && row[c.key] !== undefined) td.dataset.value = String(row[c.key]);
        const status = row[c.key + "__status"];
        td.textContent = status === "suppressed" ? t.suppressed : fmt(row[c.key]);
        // Values converted from LOR 2006 say so beside the number.
        if (status === "estimated" && row[c.key] !== null) td.textContent += " – " + t.estimated;
        if (status) td.dataset.status = status;
        r.appendChild(td);
      });
      body.appendChild(r);
    });
    els.table.dataset.rows = String(data.rows.length);
    els.count.dataset.n = String(data.matches.length);
    els.count.dataset.m = String(data.rows.length);
    els.count.textContent = conditional
      ? t.matchCount.replace("{n}", data.matches.length).replace("{m}", data.rows.length)
      : data.rows.length + " · " + state.level;
  }

  // Missing values sort last in either direction.
  function sortedRows(rows, sort) {
    const out = rows.slice();
    if (!sort) return out;
    out.sort(function (a, b) {
      const x = a[sort.key], y = b[sort.key];
      if (x === null || x === undefined) return (y === null || y === undefined) ? 0 : 1;
      if (y === null || y === undefined) return -1;
      return (x < y ? -1 : x > y ? 1 : 0) * sort.dir;
    });
    return out;
  }

  // The n highest and lowest units of one column of the current table.
  function renderRanking() {
    const data = state.result;
    const select = $("ranking-of");
    const current = select.value;
    select.replaceChildren();
    if (!data) return;
    data.columns.forEach(function (c) { option(select, c.key, c.label); });
    const keys = data.columns.map(function (c) { return c.key; });
    // A newly added column (the share just built) is what the user asked about.
    select.value = state.rankingFollow && keys.indexOf(state.rankingFollow) >= 0 ? state.rankingFollow
      : (keys.indexOf(current) >= 0 ? current : keys[keys.length - 1]);
    state.rankingFollow = null;
    const key = select.value;
    const column = data.columns.find(function (c) { return c.key === key; });
    const n = Number($("ranking-n").value);
    const valued = data.rows.filter(function (r) { return r[key] !== null && r[key] !== undefined; });
    const unit = column && column.unit ? " " + column.unit : "";
    function fill(list, rows) {
      list.replaceChildren.apply(list, rows.map(function (r) {
        return PRISMA.el("li", { "data-code": r.code, "data-value": String(r[key]) },
          [r.name + " (" + r.code + "): ", PRISMA.el("strong", { text: fmt(r[key]) + unit })]);
      }));
    }
    fill($("ranking-top"), sortedRows(valued, { key: key, dir: -1 }).slice(0, n));
    fill($("ranking-bottom"), sortedRows(valued, { key: key, dir: 1 }).slice(0, n));
  }

  function updateLinks() {
    const json = JSON.stringify(selection());
    els.exports.querySelectorAll("a[data-format]").forEach(function (a) {
      a.href = cfg.urls.export + "?" + new URLSearchParams({ format: a.dataset.format, selection: json, title: title() }).toString();
    });
    if (els.saveQuery) els.saveQuery.href = cfg.urls.saveQuery + "?" + new URLSearchParams({ selection_json: json, title: title() }).toString();
  }

  async function refresh() {
    renderLists();
    updateLinks();
    els.error.textContent = "";
    const mine = ++request;
    if (!state.columns.length) {
      els.count.textContent = t.noColumns;
      els.table.tHead.replaceChildren(); els.table.tBodies[0].replaceChildren();
      fillColumnSelects([]);
      return;
    }
    els.count.textContent = t.loading;
    let data;
    try {
      data = await getJson(cfg.urls.table, { selection: JSON.stringify(selection()) });
    } catch (error) {
      if (mine !== request) return;
      els.error.textContent = error.message;
      els.count.textContent = "";
      return false;
    }
    if (mine !== request) return;
    state.result = data;
    fillColumnSelects(data.columns);
    renderTable(data);
    renderRanking();
    drawMatches(data);
    els.table.dataset.ready = JSON.stringify(selection());
    return true;
  }

  // The units meeting every condition, shown on a map of the level.
  const matchMap = L.map("match-map", { zoomSnap: 0.25 });
  matchMap.attributionControl.setPrefix("PRISMA");
  matchMap.setView([52.51, 13.40], 9.5);
  const geometries = new Map();
  let matchLayer = null;
  async function drawMatches(data) {
    const level = selection().level;
    if (!geometries.has(level)) {
      try {
        geometries.set(level, await getJson(cfg.urls.geometry.replace("LEVEL", level)));
      } catch (error) { return; }
    }
    const matched = new Set(data.matches);
    const filtered = (selection().conditions || []).length > 0;
    if (matchLayer) matchMap.removeLayer(matchLayer);
    matchLayer = L.geoJSON(geometries.get(level), {
      filter: function (f) { return data.rows.some(function (r) { return r.code === f.properties.code; }); },
      style: function (f) {
        const hit = filtered && matched.has(f.properties.code);
        return { color: hit ? "#a63603" : "#8a96a3", weight: hit ? 1.5 : 0.5,
          fillColor: hit ? "#fd8d3c" : "#dfe3e8", fillOpacity: hit ? 0.85 : 0.6 };
      },
      onEachFeature: function (f, l) {
        // A node, not a string: Leaflet would parse a string as HTML.
        l.bindTooltip(function () { return PRISMA.el("span", { text: f.properties.name + " (" + f.properties.code + ")" }); }, { sticky: true });
      },
    }).addTo(matchMap);
    if (matchLayer.getLayers().length) matchMap.fitBounds(matchLayer.getBounds(), { padding: [8, 8], animate: false });
    $("match-map").dataset.highlighted = String(filtered ? matched.size : 0);
  }

  function chartUrl(kind, format, extra) {
    const params = Object.assign({ selection: JSON.stringify(selection()) }, extra);
    return cfg.urls.chart.replace("KIND", kind).replace("FMT", format) + "?" + new URLSearchParams(params).toString();
  }
  function chartParams(kind) {
    if (kind === "scatter") return { x: $("scatter-x").value, y: $("scatter-y").value };
    if (kind === "ranking") return { column: $("ranking-column").value };
    if (kind === "timeseries") return { column: $("timeseries-column").value, units: $("timeseries-units").value };
    return { unit: $("agestructure-unit").value };
  }

  async function showChart(kind) {
    const card = document.querySelector('[data-testid="card-' + kind + '"]');
    const img = card.querySelector("img");
    const downloads = card.querySelector(".downloads");
    let note = card.querySelector(".chart-error");
    if (!note) {
      note = document.createElement("p");
      note.className = "status error chart-error";
      note.setAttribute("data-testid", "error-" + kind);
      img.before(note);
    }
    note.textContent = t.loading;
    const params = chartParams(kind);
    const response = await fetch(chartUrl(kind, "svg", params), { credentials: "same-origin" });
    if (!response.ok) {
      note.textContent = await response.text();
      img.hidden = true; downloads.hidden = true;
      return;
    }
    note.textContent = "";
    if (kind === "scatter") {
      const r = response.headers.get("X-Correlation");
      const out = $("scatter-r");
      out.dataset.r = r || "";
      out.textContent = t.correlation + ": r = " + (r ? Number(r).toLocaleString(lang, { maximumFractionDigits: 3 }) : "–") +
        " (n = " + response.headers.get("X-Pairs") + ")";
    }
    const blob = await response.blob();
    if (img.src.startsWith("blob:")) URL.revokeObjectURL(img.src);
    img.onload = function () { img.dataset.loaded = "1"; };
    img.dataset.loaded = "";
    img.src = URL.createObjectURL(blob);
    img.hidden = false;
    downloads.hidden = false;
    downloads.querySelectorAll("a[data-fmt]").forEach(function (a) {
      a.href = chartUrl(kind, a.dataset.fmt, Object.assign({ download: "1" }, params));
    });
  }

  async function loadVariables() {
    state.variables = await getJson(cfg.urls.variables, { level: state.level.startsWith("custom:") ? "custom" : state.level });
    els.variable.replaceChildren();
    state.variables.forEach(function (v) { option(els.variable, v.key, v.name + " (" + v.key + ")"); });
    // Names to pick in the share builder; the key shows as secondary text.
    const names = $("variable-names");
    names.replaceChildren.apply(names, state.variables.map(function (v) {
      return PRISMA.el("option", { value: v.name, label: v.key });
    }));
  }

  // A variable from what the user typed: its name, its key, or a unique part of the name.
  function variableFrom(text) {
    const q = text.trim().toLowerCase();
    if (!q) return null;
    const exact = state.variables.find(function (v) { return v.name.toLowerCase() === q || v.key.toLowerCase() === q; });
    if (exact) return exact;
    const partial = state.variables.filter(function (v) { return v.name.toLowerCase().indexOf(q) >= 0; });
    return partial.length === 1 ? partial[0] : null;
  }

  async function addDerived(label, formula) {
    let n = state.derived.length + 1;
    while (state.derived.some(function (d) { return d.key === "d" + n; })) n += 1;
    const d = { key: "d" + n, label: label, formula: formula };
    state.derived.push(d);
    state.rankingFollow = d.key;
    if (await refresh() === false) {
      // Keep the server's message visible and drop the column it refused.
      const message = els.error.textContent;
      state.derived = state.derived.filter(function (x) { return x !== d; });
      await refresh();
      els.error.textContent = message;
      return false;
    }
    return true;
  }

  async function addShare() {
    const parts = [$("share-a"), $("share-b")].filter(function (input) { return input.value.trim(); });
    const inputs = parts.concat([$("share-of")]);
    const picked = inputs.map(function (input) { return variableFrom(input.value); });
    const unknown = inputs.filter(function (input, i) { return !picked[i]; });
    if (!parts.length || unknown.length) {
      els.error.textContent = t.unknownVariable.replace("{name}", unknown.length ? unknown[0].value : "");
      return;
    }
    const summands = picked.slice(0, -1), total = picked[picked.length - 1];
    picked.forEach(function (v) { if (state.columns.indexOf(v.key) < 0) state.columns.push(v.key); });
    const top = summands.map(function (v) { return v.key; }).join(" + ");
    const formula = (summands.length > 1 ? "(" + top + ")" : top) + " / " + total.key + " * 100";
    const label = t.shareLabel.replace("{parts}", summands.map(function (v) { return v.name; }).join(" + ")).replace("{total}", total.name);
    // The formula stays visible and editable in the formula field.
    els.derivedFormula.value = formula;
    if (await addDerived(label, formula)) inputs.forEach(function (input) { input.value = ""; });
  }

  async function init() {
    cfg.levels.forEach(function (l) { option(els.level, l.value, l.label); });
    try {
      (await getJson(cfg.urls.areas)).forEach(function (s) { option(els.level, s.level, s.name); });
    } catch (error) { /* custom areas are optional */ }
    els.level.value = state.level;
    option(els.within, "", "Berlin");
    cfg.bezirke.forEach(function (b) { option(els.within, b[0], b[1]); });
    await loadVariables();
    els.level.addEventListener("change", async function () {
      state.level = els.level.value;
      els.within.disabled = state.level.startsWith("custom:");
      if (els.within.disabled) { els.within.value = ""; state.within = ""; }
      await loadVariables();
      refresh();
    });
    els.within.addEventListener("change", function () { state.within = els.within.value; refresh(); });
    $("add-column").addEventListener("click", function () {
      const key = els.variable.value;
      if (key && state.columns.indexOf(key) < 0) { state.columns.push(key); refresh(); }
    });
    $("add-derived").addEventListener("click", async function () {
      const label = els.derivedLabel.value.trim(), formula = els.derivedFormula.value.trim();
      if (!label || !formula) return;
      if (await addDerived(label, formula)) { els.derivedLabel.value = ""; els.derivedFormula.value = ""; }
    });
    $("add-share").addEventListener("click", addShare);
    $("ranking-of").addEventListener("change", renderRanking);
    $("ranking-n").addEventListener("change", renderRanking);
    els.table.tHead.addEventListener("click", function (event) {
      const button = event.target.closest("button[data-key]");
      if (!button || !state.result) return;
      const key = button.dataset.key;
      state.sort = state.sort && state.sort.key === key ? { key: key, dir: -state.sort.dir } : { key: key, dir: -1 };
      renderTable(state.result);
      els.table.tHead.querySelector('button[data-key="' + key + '"]').focus();
    });
    $("add-condition").addEventListener("click", function () {
      const value = number(els.condValue.value);
      if (!els.condColumn.value || els.condValue.value.trim() === "" || Number.isNaN(value)) return;
      state.conditions.push({ column: els.condColumn.value, op: els.condOp.value, value: value });
      els.condValue.value = "";
      refresh();
    });
    document.querySelectorAll("button[data-chart]").forEach(function (button) {
      button.addEventListener("click", function () { showChart(button.dataset.chart); });
    });
    refresh();
  }
  init();
})();
