/* LOR browse map: one level at a time, click to drill down, breadcrumb to go back. */
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("map-config").textContent);
  const text = config.text;
  const levelOrder = ["bezirk", "prognoseraum", "bezirksregion", "planungsraum"];

  const map = L.map("map", { zoomSnap: 0.25, preferCanvas: false, attributionControl: true });
  map.attributionControl.setPrefix("PRISMA");
  if (config.basemapUrl) {
    L.tileLayer(config.basemapUrl, { attribution: config.basemapAttribution, maxZoom: 18 }).addTo(map);
  }
  map.setView([52.51, 13.40], 10);

  const select = document.getElementById("level-select");
  const crumbs = document.getElementById("breadcrumb");
  const status = document.getElementById("map-status");
  const panel = document.getElementById("unit-panel");
  let context = null;       // Bezirke outline, drawn once for orientation
  let layer = null;         // the units currently shown
  let selected = null;
  let path = [];            // drilled units: [{code, name, level}]
  let request = 0;

  const baseStyle = { color: "#3b4a5a", weight: 1.2, fillColor: "#9fb8cf", fillOpacity: 0.35 };
  const hoverStyle = { weight: 2.5, fillOpacity: 0.55 };
  const selectedStyle = { color: "#b3122e", weight: 3, fillColor: "#f2a7b4", fillOpacity: 0.55 };

  function unitsUrl(params) {
    return config.unitsUrl + "?" + new URLSearchParams(params).toString();
  }

  async function fetchJson(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(response.status + " " + url);
    return response.json();
  }

  function formatArea(m2) {
    return (m2 / 1e6).toLocaleString(document.documentElement.lang, { maximumFractionDigits: 2 }) + " " + text.km2;
  }

  function showPanel(props) {
    document.getElementById("unit-name").textContent = props.name;
    document.getElementById("unit-level").textContent = config.levels[props.level];
    document.getElementById("unit-code").textContent = props.code;
    document.getElementById("unit-area").textContent = formatArea(props.area_m2);
    document.getElementById("unit-link").href = config.unitPageUrl.replace("CODE", props.code);
    // A Bezirksregion leads to its Bezirksregionenprofil.
    const profile = document.getElementById("unit-profile");
    if (profile) {
      profile.hidden = props.level !== "bezirksregion";
      if (!profile.hidden) profile.href = profile.dataset.url.replace("000000", props.code);
    }
    panel.hidden = false;
  }

  function renderBreadcrumb() {
    crumbs.replaceChildren();
    const items = [{ code: null, name: config.levels.berlin }].concat(path);
    items.forEach(function (item, index) {
      const li = document.createElement("li");
      if (index === items.length - 1) {
        li.textContent = item.name;
        li.setAttribute("aria-current", "location");
      } else {
        const a = document.createElement("a");
        a.href = "#";
        a.textContent = item.name;
        a.addEventListener("click", function (event) {
          event.preventDefault();
          path = path.slice(0, index);
          if (index === 0) showLevel("bezirk");
          else showChildren(path[index - 1]);
        });
        li.appendChild(a);
      }
      crumbs.appendChild(li);
    });
  }

  // The keyboard equivalent of the map: one button per unit shown.
  function renderUnitList() {
    const list = document.getElementById("unit-list");
    if (!list) return;
    const items = [];
    layer.eachLayer(function (l) {
      const p = l.feature.properties;
      const button = PRISMA.el("button", { type: "button", class: "linklike", "data-code": p.code, text: p.name + " (" + p.code + ")" });
      button.addEventListener("click", function () { activate(l); });
      items.push(PRISMA.el("li", null, button));
    });
    items.sort(function (a, b) { return a.firstChild.dataset.code < b.firstChild.dataset.code ? -1 : 1; });
    list.replaceChildren.apply(list, items);
  }

  function activate(featureLayer) {
    const p = featureLayer.feature.properties;
    if (p.level === "planungsraum") selectFeature(featureLayer);
    else drillDown(p);
  }

  function onEachFeature(feature, featureLayer) {
    const p = feature.properties;
    // A node, not a string: Leaflet would parse a string as HTML.
    featureLayer.bindTooltip(function () { return PRISMA.el("span", { text: p.name + " (" + p.code + ")" }); }, { sticky: true });
    featureLayer.on("mouseover", function () { if (featureLayer !== selected) featureLayer.setStyle(hoverStyle); });
    featureLayer.on("mouseout", function () { if (featureLayer !== selected) layer.resetStyle(featureLayer); });
    featureLayer.on("click", function () { activate(featureLayer); });
  }

  function selectFeature(featureLayer) {
    if (selected) layer.resetStyle(selected);
    selected = featureLayer;
    featureLayer.setStyle(selectedStyle);
    featureLayer.bringToFront();
    showPanel(featureLayer.feature.properties);
  }

  async function draw(params, fit) {
    const mine = ++request;
    status.textContent = text.loading;
    let data;
    try {
      data = await fetchJson(unitsUrl(params));
    } catch (error) {
      status.textContent = text.loadError;
      return null;
    }
    if (mine !== request) return null;  // a newer click won
    if (layer) map.removeLayer(layer);
    selected = null;
    layer = L.geoJSON(data, { style: baseStyle, onEachFeature: onEachFeature }).addTo(map);
    layer.eachLayer(function (l) {
      // Keys on the SVG paths let browser tests find a unit; assistive tech uses
      // the list of units below the map controls, which does the same.
      const el = l.getElement && l.getElement();
      if (el) el.dataset.code = l.feature.properties.code;
    });
    renderUnitList();
    if (fit && data.features.length) map.fitBounds(layer.getBounds(), { padding: [12, 12], animate: false });
    status.textContent = data.features.length + " " + text.units;
    map.getContainer().dataset.featureCount = String(data.features.length);
    map.getContainer().dataset.level = data.features.length ? data.features[0].properties.level : "";
    return data;
  }

  async function showLevel(level) {
    path = [];
    select.value = level;
    renderBreadcrumb();
    panel.hidden = true;
    await draw({ level: level }, true);
  }

  async function showChildren(unit) {
    renderBreadcrumb();
    const childLevel = levelOrder[levelOrder.indexOf(unit.level) + 1];
    if (childLevel) select.value = childLevel;
    showPanel(unit);
    await draw({ parent: unit.code }, true);
  }

  function drillDown(props) {
    path.push({ code: props.code, name: props.name, level: props.level, area_m2: props.area_m2 });
    showChildren(path[path.length - 1]);
  }

  async function openUnit(code) {
    // Ancestors' keys are prefixes of the unit's key.
    const lengths = [2, 4, 6, 8].filter(function (n) { return n < code.length; });
    try {
      const chain = await Promise.all(lengths.map(function (n) {
        return fetchJson(config.unitsUrl + code.slice(0, n) + "/");
      }));
      const unit = await fetchJson(config.unitsUrl + code + "/");
      path = chain.map(function (f) { return f.properties; });
      if (unit.properties.level === "planungsraum") {
        renderBreadcrumb();
        const parent = path[path.length - 1];
        select.value = "planungsraum";
        await draw({ parent: parent.code }, true);
        layer.eachLayer(function (l) { if (l.feature.properties.code === code) selectFeature(l); });
      } else {
        path.push(unit.properties);
        await showChildren(unit.properties);
      }
    } catch (error) {
      showLevel(config.initialLevel);
    }
  }

  select.addEventListener("change", function () { showLevel(select.value); });

  fetchJson(unitsUrl({ level: "bezirk" })).then(function (data) {
    context = L.geoJSON(data, {
      style: { color: "#8a96a3", weight: 1, fill: false, dashArray: "3 3" },
      interactive: false,
      // Every Bezirk keeps its name on the map, at every level (orientation).
      onEachFeature: function (feature, featureLayer) {
        // A zero-width space after each hyphen lets long names wrap there.
        const name = feature.properties.name.replace(/-/g, "-\u200b");
        const label = PRISMA.el("span", { text: name, "data-code": feature.properties.code });
        featureLayer.bindTooltip(label, { permanent: true, direction: "center", className: "bezirk-label", interactive: false });
      },
    }).addTo(map);
    context.bringToBack();
  }).catch(function () { /* orientation layer only */ });

  if (config.initialUnit && /^\d{2,8}$/.test(config.initialUnit)) openUnit(config.initialUnit);
  else showLevel(config.initialLevel);
})();
