/* Profile page: Planungsraum map of the region and age bars, from the analysis
   dict embedded in the page (so an adopted edition shows its frozen values). */
(function () {
  "use strict";
  const configEl = document.getElementById("profile-config");
  if (!configEl) return;
  const config = JSON.parse(configEl.textContent);
  const text = config.text;
  const lang = document.documentElement.lang || "de";
  const fmt = function (v) {
    return v.toLocaleString(lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  };

  // Age bars: width relative to the largest band.
  const bars = document.querySelectorAll(".age-bar[data-value]");
  let max = 0;
  bars.forEach(function (b) { max = Math.max(max, parseFloat(b.dataset.value) || 0); });
  bars.forEach(function (b) {
    const v = parseFloat(b.dataset.value) || 0;
    b.style.width = (max ? (v / max) * 100 : 0).toFixed(1) + "%";
  });

  const mapsEl = document.getElementById("profile-maps");
  const mapDiv = document.getElementById("profile-map");
  if (!mapsEl || !mapDiv || typeof L === "undefined") return;
  const maps = JSON.parse(mapsEl.textContent);
  if (!maps.length) return;
  const select = document.getElementById("profile-map-indicator");
  const tbody = document.querySelector("#profile-map-table tbody");
  // ColorBrewer YlGnBu, 5 classes (colour-blind safe).
  const colours = ["#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"];

  const map = L.map(mapDiv, { zoomSnap: 0.25, attributionControl: true });
  map.attributionControl.setPrefix("PRISMA");
  if (config.basemapUrl) {
    L.tileLayer(config.basemapUrl, { attribution: config.basemapAttribution, maxZoom: 18 }).addTo(map);
  }
  let layer = null;
  let names = {};

  function cellText(cell) {
    if (!cell || cell.status !== "ok" || cell.value === null) {
      if (cell && cell.status === "suppressed") return text.suppressed;
      if (cell && cell.status === "below_min") return text.belowMin;
      return text.noData;
    }
    return fmt(cell.value);
  }

  function draw(index) {
    const current = maps[index];
    const values = Object.values(current.values)
      .filter(function (c) { return c.status === "ok" && c.value !== null; })
      .map(function (c) { return c.value; });
    const lo = Math.min.apply(null, values);
    const hi = Math.max.apply(null, values);
    function colour(v) {
      if (hi === lo) return colours[2];
      const k = Math.min(4, Math.floor(((v - lo) / (hi - lo)) * 5));
      return colours[k];
    }
    layer.setStyle(function (feature) {
      const cell = current.values[feature.properties.code];
      const base = { color: "#3b4a5a", weight: 1.5, fillOpacity: 0.8 };
      if (!cell || cell.status !== "ok" || cell.value === null) {
        return Object.assign(base, { fillColor: "#ffffff", dashArray: "4 3", fillOpacity: 0.3 });
      }
      return Object.assign(base, { fillColor: colour(cell.value) });
    });
    layer.eachLayer(function (l) {
      const p = l.feature.properties;
      // A node, not a string: Leaflet would parse a string as HTML.
      l.bindTooltip(PRISMA.el("span", { text: p.name + " (" + p.code + "): " + cellText(current.values[p.code]) }), { sticky: true });
      const el = l.getElement && l.getElement();
      if (el) el.dataset.value = cellText(current.values[p.code]);
    });
    tbody.replaceChildren();
    Object.keys(current.values).sort().forEach(function (code) {
      const tr = document.createElement("tr");
      const a = document.createElement("td");
      a.textContent = (names[code] || "") + " (" + code + ")";
      const b = document.createElement("td");
      b.className = "num";
      b.textContent = cellText(current.values[code]);
      tr.append(a, b);
      tbody.appendChild(tr);
    });
    mapDiv.dataset.indicator = current.key;
    legend(lo, hi, values.length > 0, current.unit);
  }

  function legend(lo, hi, any, unit) {
    const box = document.getElementById("profile-map-legend");
    if (!box) return;
    box.replaceChildren();
    function row(colour, label, dashed) {
      const div = document.createElement("div");
      const sw = document.createElement("span");
      sw.className = "swatch" + (dashed ? " dashed" : "");
      sw.style.background = colour;
      div.append(sw, document.createTextNode(" " + label));
      box.appendChild(div);
    }
    if (any) {
      const step = (hi - lo) / 5;
      colours.forEach(function (c, k) {
        if (hi === lo && k !== 2) return;
        const from = hi === lo ? lo : lo + k * step;
        const to = hi === lo ? hi : lo + (k + 1) * step;
        row(c, fmt(from) + " – " + fmt(to) + (unit ? " " + unit : ""));
      });
    }
    row("#ffffff", text.noValue, true);
  }

  fetch(config.geometryUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
    .then(function (data) {
      const features = data.features.filter(function (f) {
        return f.properties.code.indexOf(config.region) === 0;
      });
      features.forEach(function (f) { names[f.properties.code] = f.properties.name; });
      layer = L.geoJSON({ type: "FeatureCollection", features: features });
      // The map needs a view before Leaflet creates the SVG paths.
      if (features.length) map.fitBounds(layer.getBounds(), { padding: [10, 10], animate: false });
      else map.setView([52.51, 13.40], 10);
      layer.addTo(map);
      layer.eachLayer(function (l) {
        const el = l.getElement && l.getElement();
        if (el) el.dataset.code = l.feature.properties.code;
      });
      draw(0);
      mapDiv.dataset.featureCount = String(features.length);
      mapDiv.dataset.ready = "1";
    })
    .catch(function () { mapDiv.textContent = text.loadError; });

  if (select) select.addEventListener("change", function () { if (layer) draw(parseInt(select.value, 10)); });
})();
