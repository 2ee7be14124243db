/* Planning scenario page: two synchronised maps (before | after or change),
   the register's facilities and the scenario's changes, the table of units
   and the list of units whose class changes. The comparison is computed by a
   Celery task; the page polls it (PRISMA.poll). Texts from the server only
   reach the page through PRISMA.el / textContent (see prisma.js). */
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("scenario-config").textContent);
  const t = config.text;
  const el = PRISMA.el;
  const lang = document.documentElement.lang || "de";
  const statusEl = document.getElementById("scenario-status");
  const method = document.getElementById("method");
  const level = document.getElementById("level");
  const rightView = document.getElementById("right-view");
  const showAll = document.getElementById("show-all");
  const form = document.getElementById("change-form");

  function makeMap(id) {
    // Canvas: some thousand facility points stay smooth.
    const map = L.map(id, { zoomSnap: 0.25, attributionControl: true, preferCanvas: true });
    map.attributionControl.setPrefix("PRISMA");
    map.setView([52.51, 13.40], 10);
    return map;
  }
  const before = makeMap("map-before");
  const after = makeMap("map-after");
  // Panning or zooming one map moves the other.
  let syncing = false;
  function sync(from, to) {
    from.on("moveend", function () {
      if (syncing) return;
      syncing = true;
      to.setView(from.getCenter(), from.getZoom(), { animate: false });
      syncing = false;
    });
  }
  sync(before, after);
  sync(after, before);

  const geometry = {};
  let layers = { before: null, after: null };
  let markers = { before: null, after: null };
  let chosen = null;
  let result = null;
  let request = 0;

  function number(value, digits) {
    if (value === null || value === undefined) return "–";
    return value.toLocaleString(lang, { maximumFractionDigits: digits, minimumFractionDigits: digits });
  }

  async function fetchJson(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(String(response.status));
    return response.json();
  }

  async function geometryOf(lvl) {
    if (!geometry[lvl]) geometry[lvl] = await fetchJson(config.urls.geometry.replace("LEVEL", lvl));
    return geometry[lvl];
  }

  function changeColor(change) {
    if (change === null || change === undefined) return "#ececec";
    const colors = result.change_colors; // RdBu, 7: red (worse) … blue (better)
    const span = result.change_span || 1;
    if (Math.abs(change) < 1e-9) return colors[3];
    const step = Math.min(3, Math.ceil((Math.abs(change) / span) * 3));
    return change > 0 ? colors[3 + step] : colors[3 - step];
  }

  function style(unit, side) {
    const base = { color: "#5b6670", weight: 0.6, fillOpacity: 0.75 };
    if (!unit || unit.status === "suppressed" || unit.status === "missing") {
      return Object.assign(base, { fillColor: "#ececec" });
    }
    if (side === "change") return Object.assign(base, { fillColor: changeColor(unit.change) });
    const cls = unit[side].class;
    const fill = cls === null || cls === undefined ? "#ececec" : result.classes[cls].color;
    const strong = side === "after" && unit.class_changed;
    return Object.assign(base, { fillColor: fill, weight: strong ? 2.2 : 0.6, color: strong ? "#111" : "#5b6670" });
  }

  function tooltip(unit, side) {
    const node = el("div", {}, [el("strong", { text: unit.name }), " (" + unit.code + ")"]);
    const grade = side === "change" ? null : unit[side].grade;
    if (side === "change") node.appendChild(el("div", { text: t.change + ": " + number(unit.change, 1) + " " + t.points }));
    else node.appendChild(el("div", { text: (side === "before" ? t.before : t.after) + ": " + number(grade, 1) + " %" }));
    return node;
  }

  function drawUnits(map, key, geojson, side) {
    if (layers[key]) map.removeLayer(layers[key]);
    const byCode = {};
    result.units.forEach(function (u) { byCode[u.code] = u; });
    layers[key] = L.geoJSON(geojson, {
      style: function (feature) { return style(byCode[feature.properties.code], side); },
      onEachFeature: function (feature, layer) {
        const unit = byCode[feature.properties.code];
        if (unit) layer.bindTooltip(tooltip(unit, side), { sticky: true });
      },
    }).addTo(map);
    layers[key].bringToBack();
    return layers[key];
  }

  function legend() {
    const box = document.getElementById("legend");
    box.replaceChildren();
    const rows = result.classes.map(function (c) {
      return el("span", { class: "legend-item" }, [
        el("span", { class: "swatch", style: "background:" + c.color }),
        number(c.lower, 1) + " – " + number(c.upper, 1) + " %",
      ]);
    });
    rows.push(el("span", { class: "legend-item" }, [el("span", { class: "swatch", style: "background:#ececec" }), t.noData]));
    if (rightView.value === "change") {
      rows.push(el("span", { class: "legend-item" }, [el("span", { class: "swatch", style: "background:" + result.change_colors[0] }), t.change + " < 0 (" + t.worse + ")"]));
      rows.push(el("span", { class: "legend-item" }, [el("span", { class: "swatch", style: "background:" + result.change_colors[6] }), t.change + " > 0 (" + t.better + ")"]));
    }
    box.appendChild(el("p", {}, [el("strong", { text: result.rule + " · " + result.method_label + " · " + result.level_label }), " "].concat(rows)));
    // The facility symbols of both maps.
    const symbols = [
      ["#123a57", "#fff", t.register],
      ["#1b7837", "#5aae61", t.added],
      ["#762a83", "#c2a5cf", t.moved],
      ["#e08214", "#fdb863", t.resized],
      ["#b3122e", "#fff", t.closed],
    ].map(function (s) {
      return el("span", { class: "legend-item" }, [el("span", { class: "dot", style: "border-color:" + s[0] + ";background:" + s[1] }), s[2]]);
    });
    box.appendChild(el("p", { "data-testid": "legend-facilities" }, symbols));
  }

  function table() {
    const body = document.querySelector("#scenario-table tbody");
    body.replaceChildren();
    const rows = result.units
      .filter(function (u) { return showAll.checked || u.change || u.class_changed; })
      .sort(function (a, b) { return Math.abs(b.change || 0) - Math.abs(a.change || 0) || a.code.localeCompare(b.code); });
    rows.forEach(function (u) {
      body.appendChild(el("tr", { "data-code": u.code, "data-testid": "row-" + u.code }, [
        el("td", { text: u.code }),
        el("td", { text: u.name }),
        el("td", { class: "num", text: number(u.need, 0) }),
        el("td", { class: "num", "data-testid": "before", text: number(u.before.grade, 1) }),
        el("td", { class: "num", "data-testid": "after", text: number(u.after.grade, 1) }),
        el("td", { class: "num", "data-testid": "change", text: number(u.change, 1) }),
        el("td", { class: "num", text: number(u.before.deficit, 0) }),
        el("td", { class: "num", text: number(u.after.deficit, 0) }),
        el("td", { text: u.class_changed ? (u.before.class + 1) + " → " + (u.after.class + 1) : "" }),
      ]));
    });
    const list = document.getElementById("class-changes");
    list.replaceChildren();
    const changed = result.units.filter(function (u) { return u.class_changed; });
    if (!changed.length) list.appendChild(el("li", { text: t.noneChanged }));
    changed.forEach(function (u) {
      list.appendChild(el("li", { "data-code": u.code }, [
        u.name + " (" + u.code + "): " + number(u.before.grade, 1) + " % → " + number(u.after.grade, 1) + " %",
      ]));
    });
    document.getElementById("scenario-sources").textContent = result.marker + " · " + result.sources.join("; ");
  }

  async function draw() {
    const geojson = await geometryOf(result.level);
    drawUnits(before, "before", geojson, "before");
    drawUnits(after, "after", geojson, rightView.value === "change" ? "change" : "after");
    legend();
    table();
    statusEl.textContent = "";
    statusEl.dataset.ready = ["result", result.level, result.method, rightView.value].join("|");
  }

  function exportLinks() {
    const params = new URLSearchParams({ method: method.value, level: level.value }).toString();
    ["export-xlsx", "export-pdf"].forEach(function (id) {
      const a = document.getElementById(id);
      a.href = a.dataset.base + "?" + params;
    });
  }

  async function compute() {
    const mine = ++request;
    statusEl.dataset.ready = "";
    statusEl.textContent = t.loading;
    exportLinks();
    const url = config.urls.result + "?" + new URLSearchParams({ method: method.value, level: level.value });
    let answer;
    try {
      answer = await fetchJson(url);
    } catch (error) {
      statusEl.textContent = t.error;
      return;
    }
    function take(data) {
      if (mine !== request) return false;
      if (data.state === "done") {
        result = data.result;
        draw().catch(function () { statusEl.textContent = t.error; });
        return false;
      }
      if (data.state === "failed") {
        statusEl.textContent = data.error || t.error;
        return false;
      }
      return true;
    }
    if (take(answer) && answer.status) PRISMA.poll(answer.status, take, 700, 300);
  }

  // --- facilities and the scenario's changes ---------------------------------

  function facilityMarker(f, options, label) {
    const marker = L.circleMarker([f.lat, f.lon], Object.assign({ radius: 2.5, weight: 0.8, color: "#123a57", fillColor: "#fff", fillOpacity: 0.9 }, options));
    marker.bindTooltip(el("span", { text: (f.name || "") + (f.capacity !== null && f.capacity !== undefined ? " · " + number(f.capacity, 0) + " " + config.capacityUnit : "") + (label ? " · " + label : "") }));
    if (form && f.id) {
      marker.on("click", function (event) {
        L.DomEvent.stopPropagation(event);
        const select = form.querySelector("[name=facility]");
        if (select) select.value = String(f.id);
      });
    }
    return marker;
  }

  async function facilities() {
    const data = await fetchJson(config.urls.facilities);
    const byId = {};
    data.facilities.forEach(function (f) { byId[f.id] = f; });
    const changedIds = {};
    const afterItems = [];
    data.changes.forEach(function (c) {
      if (c.kind === "add") afterItems.push(facilityMarker(c, { radius: 7, color: "#1b7837", fillColor: "#5aae61", weight: 2 }, t.added));
      else if (c.facility && byId[c.facility]) {
        const f = byId[c.facility];
        changedIds[c.facility] = true;
        if (c.kind === "move") afterItems.push(facilityMarker(Object.assign({}, f, { lat: c.lat, lon: c.lon }), { radius: 7, color: "#762a83", fillColor: "#c2a5cf", weight: 2 }, t.moved));
        else if (c.kind === "close") afterItems.push(facilityMarker(f, { radius: 7, color: "#b3122e", fillColor: "#fff", weight: 2, dashArray: "2 2" }, t.closed));
        else afterItems.push(facilityMarker(Object.assign({}, f, { capacity: c.capacity }), { radius: 7, color: "#e08214", fillColor: "#fdb863", weight: 2 }, t.resized));
      }
    });
    const beforeItems = data.facilities.map(function (f) { return facilityMarker(f, {}, t.register); });
    data.facilities.forEach(function (f) {
      if (!changedIds[f.id]) afterItems.push(facilityMarker(f, {}, t.register));
    });
    markers.before = L.layerGroup(beforeItems).addTo(before);
    markers.after = L.layerGroup(afterItems).addTo(after);
  }

  if (form) {
    after.on("click", function (event) {
      const lat = event.latlng.lat.toFixed(6);
      const lon = event.latlng.lng.toFixed(6);
      form.querySelector("[name=lat]").value = lat;
      form.querySelector("[name=lon]").value = lon;
      if (chosen) after.removeLayer(chosen);
      chosen = L.marker(event.latlng, { keyboard: false }).addTo(after);
      document.getElementById("chosen-location").textContent = t.chosen.replace("{lat}", lat).replace("{lon}", lon);
    });
  }

  method.addEventListener("change", compute);
  level.addEventListener("change", compute);
  rightView.addEventListener("change", function () { if (result) draw(); });
  showAll.addEventListener("change", function () { if (result) table(); });
  compute();
  facilities().catch(function () { statusEl.textContent = t.error; });
})();
