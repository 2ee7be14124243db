/* Poll a profile batch until its ZIP is ready or it failed; then show the link. */
(function () {
  "use strict";
  const box = document.getElementById("profile-batch");
  if (!box) return;
  const url = box.dataset.statusUrl;
  const final = ["SUCCESS", "FAILURE"];
  if (final.indexOf(box.dataset.state) >= 0) return;
  const bar = document.getElementById("batch-progress-bar");
  const state = document.getElementById("batch-state");
  async function poll() {
    let batch;
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(String(response.status));
      batch = await response.json();
    } catch (error) {
      setTimeout(poll, 3000);
      return;
    }
    bar.style.width = batch.percent + "%";
    bar.parentElement.setAttribute("aria-valuenow", batch.percent);
    document.getElementById("batch-done").textContent = batch.done;
    document.getElementById("batch-total").textContent = batch.total;
    if (batch.state === "SUCCESS") {
      document.getElementById("batch-download").hidden = false;
      window.location.reload();
    } else if (batch.state === "FAILURE") {
      const error = document.getElementById("batch-error");
      error.textContent = batch.error;
      error.hidden = false;
      window.location.reload();
    } else {
      setTimeout(poll, 1000);
    }
  }
  setTimeout(poll, 500);
})();
