/* Funding steering map: euros per resident per unit as a choropleth (quartile
   classes), geometry from the maps API, values from /api/funding/values/. */
(function () {
  "use strict";
  const node = document.getElementById("funding-map-config");
  if (!node) return;
  const config = JSON.parse(node.textContent);
  const text = config.text;
  const status = document.getElementById("map-status");
  const legend = document.getElementById("funding-legend");
  const colors = ["#ffffcc", "#a1dab4", "#41b6c4", "#225ea8"];
  const none = "#f0f0f0";
  const lang = document.documentElement.lang || "de";
  const map = L.map("funding-map", { zoomSnap: 0.25 });
  map.attributionControl.setPrefix("PRISMA");
  map.setView([52.51, 13.40], 10);
  status.textContent = text.loading;

  function fmt(value, digits) {
    return value.toLocaleString(lang, { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }

  async function getJson(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(String(response.status));
    return response.json();
  }

  function quartiles(values) {
    const sorted = values.slice().sort(function (a, b) { return a - b; });
    if (sorted.length < 4) return [];
    return [0.25, 0.5, 0.75].map(function (q) {
      const pos = (sorted.length - 1) * q;
      const low = Math.floor(pos);
      const high = Math.ceil(pos);
      return sorted[low] + (sorted[high] - sorted[low]) * (pos - low);
    });
  }

  function drawLegend(bounds, max, example, sources) {
    legend.replaceChildren();
    const title = document.createElement("strong");
    title.textContent = text.perResident;
    legend.appendChild(title);
    const list = document.createElement("ul");
    const edges = [0].concat(bounds);
    const items = [[none, text.noFunding]];
    edges.forEach(function (low, i) {
      const high = i + 1 < edges.length ? edges[i + 1] : max;
      items.push([colors[i], fmt(low, 2) + " – " + fmt(high, 2) + " €"]);
    });
    items.forEach(function (item) {
      const li = document.createElement("li");
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = item[0];
      li.appendChild(swatch);
      li.appendChild(document.createTextNode(item[1]));
      list.appendChild(li);
    });
    legend.appendChild(list);
    if (example) {
      const mark = document.createElement("p");
      mark.className = "example-note";
      mark.setAttribute("data-testid", "map-example-note");
      mark.textContent = text.example;
      legend.appendChild(mark);
    }
    const src = document.createElement("p");
    src.className = "muted";
    src.textContent = sources.join("; ");
    legend.appendChild(src);
  }

  Promise.all([getJson(config.geometryUrl), getJson(config.valuesUrl), getJson(config.areasUrl)]).then(function (answers) {
    const geometry = answers[0];
    const values = answers[1];
    const areas = answers[2];
    const byCode = {};
    values.units.forEach(function (unit) { byCode[unit.code] = unit; });
    const funded = values.units.map(function (u) { return u.per_resident; }).filter(function (v) { return v; });
    const bounds = quartiles(funded);
    const max = funded.length ? Math.max.apply(null, funded) : 0;
    function colour(value) {
      if (!value) return none;
      let index = 0;
      bounds.forEach(function (b) { if (value > b) index += 1; });
      return colors[Math.min(index, colors.length - 1)];
    }
    const features = geometry.features.filter(function (f) {
      return !config.districtCode || f.properties.code.indexOf(config.districtCode) === 0;
    });
    const layer = L.geoJSON({ type: "FeatureCollection", features: features }, {
      style: function (feature) {
        const unit = byCode[feature.properties.code];
        return { color: "#555", weight: 0.6, fillOpacity: 0.8, fillColor: colour(unit && unit.per_resident) };
      },
      onEachFeature: function (feature, shape) {
        const unit = byCode[feature.properties.code];
        const value = unit && unit.per_resident ? fmt(unit.per_resident, 2) + " €" : text.noFunding;
        shape.bindTooltip(feature.properties.name + " (" + feature.properties.code + "): " + value);
      },
    }).addTo(map);
    if (features.length) map.fitBounds(layer.getBounds());
    // Funding areas as dashed outlines above the units (their tooltips name them).
    L.geoJSON(areas, {
      filter: function (feature) { return feature.geometry !== null; },
      style: { color: "#b3122e", weight: 2, dashArray: "4 3", fill: false },
      onEachFeature: function (feature, shape) {
        shape.bindTooltip(feature.properties.name + " · " + feature.properties.programme);
      },
    }).addTo(map);
    drawLegend(bounds, max, values.example_data || areas.features.some(function (f) { return f.properties.example_data; }), values.sources);
    const outline = document.createElement("p");
    outline.setAttribute("data-testid", "legend-areas");
    const line = document.createElement("span");
    line.className = "area-line";
    outline.appendChild(line);
    outline.appendChild(document.createTextNode(text.areas + " (" + areas.features.length + ")"));
    legend.insertBefore(outline, legend.children[2] || null);
    status.textContent = "";
  }).catch(function () {
    status.textContent = text.failed;
  });
})();
