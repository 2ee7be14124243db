/* Explorer: thematic map and table of one variable or indicator per level and date.
   Geometry is loaded once per level and kept; switching variable, date or classes
   only fetches values and restyles. */
(function () {
  "use strict";
  const cfg = JSON.parse(document.getElementById("explorer-config").textContent);
  const t = cfg.text;
  const lang = document.documentElement.lang || "de";
  const $ = function (id) { return document.getElementById(id); };
  const el = PRISMA.el;
  const els = {
    theme: $("theme"), variable: $("variable"), level: $("level"), slider: $("date-slider"),
    dateLabel: $("date-label"), compare: $("compare"), method: $("method"), k: $("k"),
    palette: $("palette"), breaks: $("breaks"), status: $("explorer-status"), panel: $("unit-panel"),
    mapEl: $("map"), table: $("explorer-table"), tableView: $("table-view"),
    filter: $("table-filter"), bezirk: $("bezirk"), search: $("variable-search"),
  };
  const state = { variables: [], dates: [], values: {}, legend: null, selected: null, rows: [], sort: null };
  const geometryCache = new Map();
  let layer = null;
  let request = 0;

  const map = L.map("map", { zoomSnap: 0.25, preferCanvas: false });
  map.attributionControl.setPrefix("PRISMA");
  map.setView([52.51, 13.40], 10);
  const legend = L.control({ position: "bottomright" });
  legend.onAdd = function () {
    const div = L.DomUtil.create("div", "legend");
    div.dataset.testid = "legend";
    div.setAttribute("data-testid", "legend");
    return div;
  };
  legend.addTo(map);

  function fmt(value, digits) {
    if (value === null || value === undefined) return "–";
    const d = digits === undefined ? (Math.abs(value) >= 100 ? 0 : 1) : digits;
    return value.toLocaleString(lang, { minimumFractionDigits: 0, maximumFractionDigits: d });
  }
  function fmtDate(iso) {
    if (!iso) return "";
    const p = iso.split("-");
    return p[2] + "." + p[1] + "." + p[0];
  }
  async function getJson(url, params) {
    const full = params ? url + "?" + new URLSearchParams(params).toString() : url;
    const response = await fetch(full, { credentials: "same-origin", headers: { Accept: "application/json" } });
    const data = await response.json().catch(function () { return {}; });
    if (!response.ok) {
      const message = Object.values(data).flat().join(" ") || t.error;
      throw new Error(message);
    }
    return data;
  }
  function option(select, value, label) {
    const o = document.createElement("option");
    o.value = value; o.textContent = label; select.appendChild(o);
  }

  // Hatched fill for suppressed units: an SVG pattern in the map's renderer.
  function ensureHatch() {
    const svg = els.mapEl.querySelector("svg.leaflet-zoom-animated");
    if (!svg || svg.querySelector("#prisma-hatch")) return;
    const ns = "http://www.w3.org/2000/svg";
    const defs = document.createElementNS(ns, "defs");
    const pattern = document.createElementNS(ns, "pattern");
    pattern.setAttribute("id", "prisma-hatch");
    pattern.setAttribute("patternUnits", "userSpaceOnUse");
    pattern.setAttribute("width", "6"); pattern.setAttribute("height", "6");
    pattern.setAttribute("patternTransform", "rotate(45)");
    const bg = document.createElementNS(ns, "rect");
    bg.setAttribute("width", "6"); bg.setAttribute("height", "6"); bg.setAttribute("fill", "#bdbdbd");
    const line = document.createElementNS(ns, "line");
    line.setAttribute("x1", "0"); line.setAttribute("y1", "0"); line.setAttribute("x2", "0"); line.setAttribute("y2", "6");
    line.setAttribute("stroke", "#636363"); line.setAttribute("stroke-width", "2");
    pattern.appendChild(bg); pattern.appendChild(line); defs.appendChild(pattern);
    svg.insertBefore(defs, svg.firstChild);
  }

  // The Bezirk restriction: units of other Bezirke stay as a faint backdrop.
  function inBezirk(code) {
    return !els.bezirk.value || String(code).indexOf(els.bezirk.value) === 0;
  }
  function variableUnit() {
    if (state.legend && state.legend.unit) return state.legend.unit;
    const v = state.variables.find(function (x) { return x.key === els.variable.value; });
    return v && v.unit ? v.unit : "";
  }
  function withUnit(text) {
    const unit = variableUnit();
    return unit && text !== "–" ? text + " " + unit : text;
  }

  function styleFor(code) {
    if (!inBezirk(code)) return { color: "#b0b7bf", weight: 0.3, fillColor: "#f4f4f4", fillOpacity: 0.3 };
    const v = state.values[code];
    const base = { color: "#5b6775", weight: 0.6, fillOpacity: 0.85 };
    if (!v || v.status === "missing" || (v.value === null && v.status !== "suppressed")) {
      return Object.assign(base, { fillColor: "#ececec" });
    }
    if (v.status === "suppressed") return Object.assign(base, { fillColor: "url(#prisma-hatch)" });
    const cls = state.legend && v["class"] !== null ? state.legend.classes[v["class"]] : null;
    // Estimated values (converted from LOR 2006) keep their class colour but are
    // outlined dashed, as the legend explains.
    if (v.status === "estimated") Object.assign(base, { color: "#1f2933", weight: 1.2, dashArray: "4 3" });
    return Object.assign(base, { fillColor: cls ? cls.color : "#ececec" });
  }
  // A value as text, with the mark of an estimated one.
  function valueText(value, status) {
    if (status === "suppressed") return t.suppressed;
    if (value === null || value === undefined) return t.missing;
    const text = withUnit(fmt(value));
    return status === "estimated" ? text + " – " + t.estimated : text;
  }

  // A node, not a string: Leaflet would parse a string as HTML.
  function tooltip(feature) {
    const p = feature.properties;
    const v = state.values[p.code];
    let text = "—";
    if (v) text = valueText(v.value, v.status);
    return el("span", { "data-testid": "map-tooltip" },
      [el("strong", { text: p.name }), " (" + p.code + ")", el("br"), text]);
  }

  async function loadGeometry(level, url) {
    if (!geometryCache.has(level)) geometryCache.set(level, await getJson(url));
    return geometryCache.get(level);
  }

  function drawGeometry(geojson, level) {
    if (layer && layer._prismaLevel === level) return;
    if (layer) map.removeLayer(layer);
    layer = L.geoJSON(geojson, {
      style: function (f) { return styleFor(f.properties.code); },
      onEachFeature: function (f, l) {
        l.bindTooltip(function () { return tooltip(f); }, { sticky: true });
        l.on("click", function () { selectUnit(f.properties); });
      },
    }).addTo(map);
    layer._prismaLevel = level;
    layer.eachLayer(function (l) {
      const el = l.getElement && l.getElement();
      if (el) el.dataset.code = l.feature.properties.code;
    });
    fitToSelection();
    ensureHatch();
    els.mapEl.dataset.featureCount = String(geojson.features.length);
  }

  // Zoom to the Bezirk when the map is restricted to one, else to all of Berlin.
  function fitToSelection() {
    if (!layer) return;
    let bounds = null;
    layer.eachLayer(function (l) {
      if (!inBezirk(l.feature.properties.code)) return;
      bounds = bounds ? bounds.extend(l.getBounds()) : L.latLngBounds(l.getBounds().getSouthWest(), l.getBounds().getNorthEast());
    });
    if (bounds) map.fitBounds(bounds, { padding: [10, 10], animate: false });
    els.mapEl.dataset.bezirk = els.bezirk.value;
  }

  function restyle() {
    if (!layer) return;
    layer.eachLayer(function (l) { l.setStyle(styleFor(l.feature.properties.code)); });
  }

  function legendRow(swatch, label, count, attrs) {
    return el("div", Object.assign({ class: "row" }, attrs), [swatch, label, el("span", { class: "count", text: count })]);
  }
  function swatch(color, extraClass) {
    const span = el("span", { class: "swatch" + (extraClass ? " " + extraClass : "") });
    if (color) span.style.background = color;
    return span;
  }

  function renderLegend(data) {
    const div = els.mapEl.querySelector(".legend");
    const lg = data.legend;
    const name = (els.variable.selectedOptions[0] || {}).textContent || "";
    const unit = variableUnit();
    // The unit on its own line, so the heading stays the variable's name.
    const parts = [el("h2", { text: name })];
    if (unit) parts.push(el("div", { class: "muted", "data-testid": "legend-unit", text: unit }));
    if (data.compare) parts.push(el("div", { class: "muted", text: t.change + " " + fmtDate(data.compare) }));
    lg.classes.forEach(function (c) {
      parts.push(legendRow(swatch(c.color), fmt(c.lower) + " – " + fmt(c.upper), c.count));
    });
    if (lg.suppressed && lg.suppressed.count) {
      parts.push(legendRow(swatch(null, "hatch"), t.suppressed, lg.suppressed.count, { "data-testid": "legend-suppressed" }));
    }
    if (lg.missing && lg.missing.count) {
      parts.push(legendRow(swatch("#ececec"), t.missing, lg.missing.count));
    }
    if (lg.estimated && lg.estimated.count) {
      parts.push(legendRow(swatch(null, "estimated"), lg.estimated.label, lg.estimated.count, { "data-testid": "legend-estimated" }));
    }
    (lg.notes || []).forEach(function (n) { parts.push(el("div", { class: "muted", text: n })); });
    // Sources and licences of the values and the geometry, as text (never HTML).
    Object.keys(overlays).forEach(function (key) {
      const o = overlays[key];
      if (!map.hasLayer(o)) return;
      const dot = el("span", { class: "point" });
      dot.style.background = o.color;
      parts.push(legendRow(dot, o.label, o.pointCount, { "data-testid": "legend-facility-" + key }));
    });
    if (data.sources) parts.push(el("div", { class: "sources muted", text: data.sources, "data-testid": "legend-sources" }));
    div.replaceChildren.apply(div, parts);
    div.dataset.classes = String(lg.classes.length);
    div.dataset.bounds = lg.classes.map(function (c) { return c.upper; }).join("|");
  }

  function updateDates(dates, current) {
    state.dates = dates;
    els.slider.max = String(Math.max(dates.length - 1, 0));
    const index = current ? dates.indexOf(current) : dates.length - 1;
    els.slider.value = String(Math.max(index, 0));
    els.slider.disabled = dates.length < 2;
    els.dateLabel.textContent = fmtDate(dates[Math.max(index, 0)] || "");
    const chosen = els.compare.value;
    els.compare.replaceChildren();
    option(els.compare, "", t.noChange);
    dates.forEach(function (d) { if (!current || d < current) option(els.compare, d, fmtDate(d)); });
    els.compare.value = dates.indexOf(chosen) >= 0 && chosen < current ? chosen : "";
  }

  async function refresh(options) {
    const mine = ++request;
    const variable = els.variable.value;
    const level = els.level.value;
    if (!variable) return;
    const params = { variable: variable, level: level, method: els.method.value, k: els.k.value, palette: els.palette.value };
    if (params.method === "manual") {
      // German input: "3.000; 6.000,5" → 3000,6000.5 for the API.
      const bounds = els.breaks.value.split(/[;\s]+/).filter(Boolean).map(function (b) {
        return b.replace(/\./g, "").replace(",", ".");
      });
      if (!bounds.length) { els.status.textContent = t.breaksHint; return; }
      params.breaks = bounds.join(",");
    }
    let date = options && options.keepDate ? state.dates[Number(els.slider.value)] : null;
    if (!date && cfg.initial.date && !state.initialDateUsed) {
      date = cfg.initial.date;
      state.initialDateUsed = true;
    }
    if (date) params.date = date;
    if (els.compare.value && date && els.compare.value < date) params.compare = els.compare.value;
    els.status.textContent = t.loading;
    let data;
    try {
      data = await getJson(cfg.urls.mapValues, params);
    } catch (error) {
      els.status.textContent = error.message;
      return;
    }
    if (mine !== request) return;
    state.values = {};
    data.results.forEach(function (r) { state.values[r.code] = r; });
    state.legend = data.legend;
    updateDates(data.dates, data.date);
    const geometry = await loadGeometry(level, data.geometry);
    if (mine !== request) return;
    drawGeometry(geometry, level);
    restyle();
    state.lastData = data;
    renderLegend(data);
    els.status.textContent = data.results.length + " " + t.units + (data.date ? ", " + fmtDate(data.date) : "");
    els.mapEl.dataset.ready = [variable, level, data.date, data.compare || "", params.method, params.k].join("|");
    loadTable(variable, level, data.date);
    updateExports(variable, level, data.date, params);
    if (state.selected) selectUnit(state.selected);
    const link = { variable: variable, level: level, method: params.method, k: params.k, palette: params.palette };
    if (els.bezirk.value) link.bezirk = els.bezirk.value;
    if (data.date) link.date = data.date;
    history.replaceState(null, "", "?" + new URLSearchParams(link).toString());
  }

  function updateExports(variable, level, date, params) {
    // The Bezirk restriction travels with the selection; the export names it in its title.
    const selection = { level: level, columns: [variable], date: date || null, within: els.bezirk.value };
    // A change map exports its changes; the server adds both dates to the title.
    const title = (els.variable.selectedOptions[0] || {}).textContent + " – " +
      (els.level.selectedOptions[0] || {}).textContent + (date && !params.compare ? ", " + fmtDate(date) : "");
    document.querySelectorAll("#exports a[data-format]").forEach(function (a) {
      const q = { format: a.dataset.format, selection: JSON.stringify(selection), title: title,
        column: variable, method: params.method, k: params.k, palette: params.palette };
      if (params.compare) q.compare = params.compare;
      a.href = cfg.urls.export + "?" + new URLSearchParams(q).toString();
      a.setAttribute("download", "");
    });
    const save = $("save-query");
    if (!save) return;  // roles that cannot save queries get no link
    const base = save.getAttribute("href").split("?")[0];
    const center = map.getCenter();
    const presentation = { column: variable, method: params.method, k: Number(params.k), palette: params.palette,
      map: { lat: Number(center.lat.toFixed(5)), lng: Number(center.lng.toFixed(5)), zoom: map.getZoom() } };
    save.href = base + "?" + new URLSearchParams({
      selection_json: JSON.stringify(selection), presentation_json: JSON.stringify(presentation), title: title,
    }).toString();
  }

  async function loadTable(variable, level, date) {
    const selection = { level: level, columns: [variable], date: date || null };
    try {
      const data = await getJson(cfg.urls.table, { selection: JSON.stringify(selection) });
      state.table = data;
      renderTable();
    } catch (error) { /* the map stays usable */ }
  }

  function renderTable() {
    const data = state.table;
    if (!data) return;
    const col = data.columns[0];
    const head = [["code", t.key], ["name", t.name], [col.key, t.value], [col.key + "__parent", t.parent],
      [col.key + "__rank_bezirk", t.rankBezirk], [col.key + "__rank_berlin", t.rankBerlin]];
    // Sortable headers are buttons (keyboard), aria-sort tells the current order.
    els.table.tHead.replaceChildren(el("tr", null, head.map(function (h) {
      const sorted = state.sort && state.sort.key === h[0];
      return el("th", { scope: "col", "aria-sort": sorted ? (state.sort.dir > 0 ? "ascending" : "descending") : null },
        el("button", { type: "button", class: "sort", "data-key": h[0], text: h[1] }));
    })));
    let rows = data.rows.filter(function (r) { return inBezirk(r.code); });
    renderRanking(rows, col);
    const q = els.filter.value.trim().toLowerCase();
    if (q) rows = rows.filter(function (r) { return r.code.indexOf(q) === 0 || r.name.toLowerCase().indexOf(q) >= 0; });
    if (state.sort) {
      const key = state.sort.key, dir = state.sort.dir;
      rows.sort(function (a, b) {
        const x = a[key], y = b[key];
        if (x === null || x === undefined) return 1;
        if (y === null || y === undefined) return -1;
        return (x < y ? -1 : x > y ? 1 : 0) * dir;
      });
    }
    // Berlin's value heads the table as the reference for every unit below.
    const berlinRow = el("tr", { class: "berlin-row", "data-testid": "berlin-row" }, [
      el("td", { text: "11000000" }), el("td", { text: t.berlin }), el("td", { class: "num", text: fmt(col.berlin) }),
      el("td"), el("td"), el("td"),
    ]);
    const body = els.table.tBodies[0];
    body.replaceChildren(berlinRow);
    rows.forEach(function (r) {
      const status = r[col.key + "__status"];
      let value = status === "suppressed" ? t.suppressed : (r[col.key] === null ? t.missing : fmt(r[col.key]));
      if (status === "estimated" && r[col.key] !== null) value += " – " + t.estimated;
      body.appendChild(el("tr", { "data-code": r.code, "data-status": status || "" }, [
        el("td", { text: r.code }), el("td", { text: r.name }), el("td", { class: "num", text: value }),
        el("td", { class: "num", text: fmt(r[col.key + "__parent"]) }),
        el("td", { class: "num", text: r[col.key + "__rank_bezirk"] || "–" }),
        el("td", { class: "num", text: r[col.key + "__rank_berlin"] || "–" }),
      ]));
    });
    els.table.dataset.rows = String(rows.length);
  }

  // The n highest and lowest units of the table (within the chosen Bezirk).
  function renderRanking(rows, col) {
    const n = Number($("ranking-n").value);
    const valued = rows.filter(function (r) { return r[col.key] !== null && r[col.key] !== undefined; });
    const byValue = valued.slice().sort(function (a, b) { return b[col.key] - a[col.key]; });
    function fill(list, items) {
      list.replaceChildren.apply(list, items.map(function (r) {
        return el("li", { "data-code": r.code, "data-value": String(r[col.key]) },
          [r.name + " (" + r.code + "): ", el("strong", { text: withUnit(fmt(r[col.key])) })]);
      }));
    }
    fill($("ranking-top"), byValue.slice(0, n));
    fill($("ranking-bottom"), byValue.slice().reverse().slice(0, n));
  }
  // How many units of the unit's Bezirk have a rank (for "Rang 3 von 36").
  function bezirkCount(code, col) {
    const prefix = String(code).slice(0, 2);
    return state.table.rows.filter(function (r) {
      return r.code.indexOf(prefix) === 0 && r[col.key + "__rank_bezirk"];
    }).length;
  }

  async function selectUnit(props) {
    state.selected = props;
    const v = state.values[props.code];
    const row = state.table ? state.table.rows.find(function (r) { return r.code === props.code; }) : null;
    const col = state.table ? state.table.columns[0] : null;
    $("panel-name").textContent = props.name + " (" + props.code + ")";
    const facts = [[t.value, v ? valueText(v.value, v.status) : "–"]];
    if (row && col) {
      const rb = row[col.key + "__rank_bezirk"], rB = row[col.key + "__rank_berlin"];
      const ranked = state.table.rows.filter(function (r) { return r[col.key + "__rank_berlin"]; }).length;
      facts.push([t.rankBezirk, rb ? t.rankOf.replace("{rank}", rb).replace("{n}", bezirkCount(props.code, col)) : "–"]);
      facts.push([t.rankBerlin, rB ? t.rankOfBerlin.replace("{rank}", rB).replace("{n}", ranked) : "–"]);
      facts.push([t.parent, withUnit(fmt(row[col.key + "__parent"]))]);
      facts.push([t.berlin, withUnit(fmt(col.berlin))]);
    }
    $("panel-facts").replaceChildren.apply($("panel-facts"), facts.flatMap(function (f) {
      return [el("dt", { text: f[0] }), el("dd", { "data-testid": "panel-" + f[0], text: f[1] })];
    }));
    $("panel-link").href = cfg.urls.unitPage.replace("CODE", props.code);
    els.panel.hidden = false;
    els.panel.dataset.code = props.code;
    drawSeries(props.code);
  }

  // The unit's values at every reference date (one request), drawn with the
  // reform marked and estimated values hollow on dashed segments.
  async function drawSeries(code) {
    const box = $("panel-chart");
    box.replaceChildren();
    if (state.dates.length < 2) return;
    const variable = els.variable.value, level = els.level.value;
    let data;
    try {
      data = await getJson(cfg.urls.series, { variable: variable, level: level, units: code });
    } catch (error) { return; }
    if (!state.selected || state.selected.code !== code || els.variable.value !== variable) return;
    const name = (els.variable.selectedOptions[0] || {}).textContent || variable;
    const chart = PRISMA.seriesChart(data, { title: name, valuesLabel: t.seriesValues,
      format: function (v) { return fmt(v); } });
    const selection = { level: level, columns: [variable] };
    const link = el("a", { href: cfg.urls.seriesChart + "?" + new URLSearchParams({
      selection: JSON.stringify(selection), units: code }).toString(), target: "_blank", rel: "noopener",
      "data-testid": "series-chart-link", text: t.seriesChart });
    box.replaceChildren(chart, link);
    box.dataset.points = String(data.dates.length);
  }

  async function loadVariables() {
    // Only variables with values at the chosen level are offered.
    const level = els.level.value.indexOf("custom:") === 0 ? "custom" : els.level.value;
    state.variables = await getJson(cfg.urls.variables, { level: level });
    fillVariables();
  }

  function fillVariables() {
    const theme = els.theme.value;
    const current = els.variable.value || cfg.initial.variable;
    els.variable.replaceChildren();
    state.variables.filter(function (v) { return !theme || v.theme === theme; }).forEach(function (v) {
      option(els.variable, v.key, v.name);
    });
    if (Array.prototype.some.call(els.variable.options, function (o) { return o.value === current; })) els.variable.value = current;
    // Search by name over all themes; the key shows as secondary text.
    const names = $("variable-names");
    names.replaceChildren.apply(names, state.variables.map(function (v) {
      return el("option", { value: v.name, label: v.key });
    }));
  }

  // A variable from the search text: its exact name or key, or a unique part of the name.
  function pickSearched() {
    const q = els.search.value.trim().toLowerCase();
    if (!q) return;
    let hit = state.variables.find(function (v) { return v.name.toLowerCase() === q || v.key.toLowerCase() === q; });
    if (!hit) {
      const partial = state.variables.filter(function (v) { return v.name.toLowerCase().indexOf(q) >= 0; });
      if (partial.length === 1) hit = partial[0];
    }
    if (!hit || hit.key === els.variable.value) return;
    if (els.theme.value && els.theme.value !== hit.theme) { els.theme.value = ""; fillVariables(); }
    els.variable.value = hit.key;
    refresh();
  }

  // Each palette as a strip of its colours; the name is the accessible label.
  function renderRamps() {
    const box = $("palette-ramps");
    box.replaceChildren.apply(box, cfg.palettes.map(function (p) {
      const button = el("button", { type: "button", role: "radio", "aria-label": p, title: p,
        "aria-checked": String(els.palette.value === p), "data-palette": p },
        (cfg.ramps[p] || []).map(function (c) {
          const cell = el("span", { class: "ramp-cell" });
          cell.style.background = c;
          return cell;
        }));
      button.addEventListener("click", function () {
        els.palette.value = p;
        renderRamps();
        refresh({ keepDate: true });
      });
      return button;
    }));
  }

  async function init() {
    Object.keys(cfg.methods).forEach(function (m) { option(els.method, m, cfg.methods[m]); });
    cfg.palettes.forEach(function (p) { option(els.palette, p, p); });
    cfg.levels.forEach(function (l) { option(els.level, l.value, l.label); });
    option(els.bezirk, "", t.allBerlin);
    cfg.bezirke.forEach(function (b) { option(els.bezirk, b[0], b[1]); });
    if (cfg.initial.bezirk) els.bezirk.value = cfg.initial.bezirk;
    try {
      (await getJson(cfg.urls.areas)).forEach(function (s) { option(els.level, s.level, s.name); });
    } catch (error) { /* custom areas are optional */ }
    els.level.value = cfg.initial.level;
    ["method", "k", "palette"].forEach(function (name) {
      if (cfg.initial[name]) els[name].value = cfg.initial[name];
    });
    option(els.theme, "", t.allThemes);
    Object.keys(cfg.themes).forEach(function (k) { option(els.theme, k, cfg.themes[k]); });
    await loadVariables();
    els.theme.addEventListener("change", function () { fillVariables(); refresh(); });
    els.variable.addEventListener("change", function () { refresh(); });
    els.search.addEventListener("change", pickSearched);
    els.search.addEventListener("input", pickSearched);
    renderRamps();
    els.palette.addEventListener("change", renderRamps);
    $("ranking-n").addEventListener("change", renderTable);
    $("panel-close").addEventListener("click", function () { els.panel.hidden = true; state.selected = null; });
    els.bezirk.addEventListener("change", function () {
      restyle();
      fitToSelection();
      renderTable();
      refresh({ keepDate: true });
    });
    els.level.addEventListener("change", async function () {
      state.selected = null;
      els.panel.hidden = true;
      // Custom areas have no Bezirk key prefix.
      els.bezirk.disabled = els.level.value.indexOf("custom:") === 0;
      if (els.bezirk.disabled) els.bezirk.value = "";
      await loadVariables();
      refresh();
    });
    els.slider.addEventListener("input", function () { els.dateLabel.textContent = fmtDate(state.dates[Number(els.slider.value)]); });
    els.slider.addEventListener("change", function () { refresh({ keepDate: true }); });
    [els.compare, els.method, els.k, els.palette, els.breaks].forEach(function (el) {
      el.addEventListener("change", function () { refresh({ keepDate: true }); });
    });
    els.method.addEventListener("change", function () {
      $("breaks-box").hidden = els.method.value !== "manual";
    });
    els.filter.addEventListener("input", renderTable);
    els.table.tHead.addEventListener("click", function (event) {
      const button = event.target.closest("button[data-key]");
      if (!button) return;
      const key = button.dataset.key;
      state.sort = state.sort && state.sort.key === key ? { key: key, dir: -state.sort.dir } : { key: key, dir: 1 };
      renderTable();
      els.table.tHead.querySelector('button[data-key="' + key + '"]').focus();
    });
    $("tab-map").addEventListener("click", function () { showTab("map"); });
    $("tab-table").addEventListener("click", function () { showTab("table"); });
    // Tabs pattern: arrow keys move between the two tabs.
    $("tab-map").parentNode.addEventListener("keydown", function (event) {
      if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
      const next = $("tab-map").getAttribute("aria-selected") === "true" ? "table" : "map";
      showTab(next);
      $("tab-" + next).focus();
    });
    await refresh();
    initFacilities();
  }

  // Facility layers as points over the choropleth, drawn on a canvas (thousands).
  const pointRenderer = L.canvas({ padding: 0.2 });
  const overlays = {};
  async function initFacilities() {
    let layers = [];
    try { layers = await getJson(cfg.urls.facilities); } catch (error) { return; }
    if (!layers.length) return;
    const colors = ["#1b7837", "#5e3c99", "#b35806", "#2166ac"];
    const box = $("facility-layers");
    layers.forEach(function (info, n) {
      const id = "facility-" + info.key;
      const input = el("input", { type: "checkbox", id: id, "data-testid": id });
      const label = el("label", null, [input, " " + info.name]);
      box.appendChild(label);
      if (!info.points) {
        // Single facilities stay on the server: offer the counts as the map.
        input.disabled = true;
        label.appendChild(el("a", {
          href: "?variable=" + encodeURIComponent(info.count_variable) + "&level=planungsraum",
        }, [" (" + cfg.text.facilityCountsOnly + ")"]));
        return;
      }
      input.addEventListener("change", async function (event) {
        if (!event.target.checked) {
          if (overlays[info.key]) map.removeLayer(overlays[info.key]);
          if (state.lastData) renderLegend(state.lastData);
          return;
        }
        if (!overlays[info.key]) {
          const data = await getJson(cfg.urls.facilities + info.key + "/");
          overlays[info.key] = L.geoJSON(data, {
            pointToLayer: function (f, latlng) {
              return L.circleMarker(latlng, {
                renderer: pointRenderer, radius: 5, color: "#fff", weight: 1.2,
                fillColor: colors[n % colors.length], fillOpacity: 0.9,
              }).bindTooltip(function () { return el("span", { text: f.properties.name || info.name }); });
            },
          });
          overlays[info.key].pointCount = data.features.length;
          overlays[info.key].color = colors[n % colors.length];
          overlays[info.key].label = info.name;
        }
        overlays[info.key].addTo(map);
        els.mapEl.dataset.points = String(overlays[info.key].pointCount);
        if (state.lastData) renderLegend(state.lastData);
      });
    });
    $("facility-box").hidden = false;
  }

  function showTab(which) {
    const table = which === "table";
    $("tab-map").setAttribute("aria-selected", String(!table));
    $("tab-table").setAttribute("aria-selected", String(table));
    $("tab-map").tabIndex = table ? -1 : 0;
    $("tab-table").tabIndex = table ? 0 : -1;
    els.mapEl.hidden = table;
    els.tableView.hidden = !table;
    if (!table) map.invalidateSize();
  }

  init();
})();
