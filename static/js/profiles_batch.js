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
  PRISMA.poll(url, function (batch) {
    bar.style.width = batch.percent + "%";
    bar.parentElement.setAttribute("aria-valuenow", batch.percent);
    document.getElementById("batch-done").textContent = batch.done;
    document.getElementById("batch-total").textContent = batch.total;
    if (batch.state === "SUCCESS") {
      document.getElementById("batch-download").hidden = false;
      window.location.reload();
      return false;
    }
    if (batch.state === "FAILURE") {
      const error = document.getElementById("batch-error");
      error.textContent = batch.error;
      error.hidden = false;
      window.location.reload();
      return false;
    }
    return true;
  }, 1000, 500);
})();
