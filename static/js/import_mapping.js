/* Show only the fields that belong to the chosen use of each column. */
(function () {
  "use strict";
  document.querySelectorAll("[data-mapping-row]").forEach(function (row) {
    const action = row.querySelector("[data-mapping-action]");
    if (!action) return;
    function update() {
      row.querySelectorAll("[data-when]").forEach(function (box) {
        box.hidden = box.dataset.when !== action.value;
      });
    }
    action.addEventListener("change", update);
    update();
  });
})();
