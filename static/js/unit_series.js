/* Unit page: a small time series per Kernindikator that has values at the
   unit's level (PRISMA.seriesChart; the reform marked, estimated values
   hollow on dashed segments). One request for the list, one per indicator. */
(function () {
  "use strict";
  const box = document.getElementById("unit-series");
  if (!box) return;
  const el = PRISMA.el;
  const grid = document.getElementById("unit-series-grid");
  const status = document.getElementById("unit-series-status");
  const lang = document.documentElement.lang || "de";
  const level = box.dataset.level, code = box.dataset.code;

  async function getJson(url, params) {
    const full = params ? url + "?" + new URLSearchParams(params).toString() : url;
    const response = await fetch(full, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(String(response.status));
    return response.json();
  }
  function fmt(value) {
    return value.toLocaleString(lang, { maximumFractionDigits: Math.abs(value) >= 100 ? 0 : 1 });
  }

  async function load() {
    let indicators = [];
    try { indicators = await getJson(box.dataset.indicatorsUrl); } catch (error) { status.textContent = ""; return; }
    const shown = indicators.filter(function (i) { return i.levels.indexOf(level) >= 0 && i.dates.length; });
    let drawn = 0;
    for (const indicator of shown) {
      let data;
      try {
        data = await getJson(box.dataset.seriesUrl, { variable: indicator.key, level: level, units: code });
      } catch (error) { continue; }
      const series = data.series[0];
      if (!series || !series.points.some(function (p) { return p.value !== null; })) continue;
      const title = indicator.name + (indicator.unit ? " (" + indicator.unit + ")" : "");
      grid.appendChild(el("div", { "data-key": indicator.key }, [
        el("h3", { text: title }),
        PRISMA.seriesChart(data, { title: title, valuesLabel: box.dataset.valuesLabel, format: fmt }),
      ]));
      drawn += 1;
    }
    status.textContent = drawn ? "" : box.dataset.empty;
    box.dataset.ready = String(drawn);
  }
  load();
})();
