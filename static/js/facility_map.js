/* Facility map: shows a facility's location; on the form a click places it and
   fills latitude/longitude (typed coordinates move the marker). */
(function () {
  "use strict";
  const holder = document.getElementById("facility-map");
  const configNode = document.getElementById("facility-map-config");
  if (!holder || !configNode) return;
  const config = JSON.parse(configNode.textContent);
  const map = L.map(holder, { attributionControl: true });
  map.attributionControl.setPrefix("PRISMA");
  if (config.basemapUrl) {
    L.tileLayer(config.basemapUrl, { attribution: config.basemapAttribution, maxZoom: 18 }).addTo(map);
  }
  map.setView(config.point || [52.51, 13.4], config.point ? 15 : 10);
  fetch(config.unitsUrl + "?level=bezirk", { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (data) {
      if (data) L.geoJSON(data, { interactive: false, style: { color: "#3b4a5a", weight: 1, fillOpacity: 0.05 } }).addTo(map);
    });
  let marker = config.point ? L.marker(config.point, { keyboard: false }).addTo(map) : null;
  if (!config.editable) return;
  const lat = document.getElementById("id_lat");
  const lon = document.getElementById("id_lon");
  const status = document.getElementById("facility-map-status");
  function place(latlng, fromMap) {
    if (marker) marker.setLatLng(latlng); else marker = L.marker(latlng, { keyboard: false }).addTo(map);
    if (fromMap) {
      lat.value = latlng.lat.toFixed(6);
      lon.value = latlng.lng.toFixed(6);
    }
    if (status) status.textContent = config.text.placed.replace("%(lat)s", lat.value).replace("%(lon)s", lon.value);
  }
  map.on("click", function (event) { place(event.latlng, true); });
  function typed() {
    const a = parseFloat(String(lat.value).replace(",", "."));
    const b = parseFloat(String(lon.value).replace(",", "."));
    if (isFinite(a) && isFinite(b)) place(L.latLng(a, b), false);
  }
  lat.addEventListener("change", typed);
  lon.addEventListener("change", typed);
})();
