/* Poll an import run's state until it is finished, then reload to show the summary. */
(function () {
  "use strict";
  const box = document.getElementById("import-run");
  if (!box) return;
  const url = box.dataset.statusUrl;
  const active = ["queued", "running"];
  if (active.indexOf(box.dataset.status) < 0) return;
  const bar = document.getElementById("progress-bar");
  async function poll() {
    let run;
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(String(response.status));
      run = await response.json();
    } catch (error) {
      setTimeout(poll, 3000);
      return;
    }
    bar.style.width = run.percent + "%";
    bar.parentElement.setAttribute("aria-valuenow", run.percent);
    document.getElementById("progress-percent").textContent = run.percent;
    document.getElementById("rows-read").textContent = run.rows_read;
    document.getElementById("rows-written").textContent = run.rows_written;
    document.getElementById("run-status").textContent = run.status_label;
    if (active.indexOf(run.status) >= 0) {
      setTimeout(poll, 700);
    } else {
      window.location.reload();
    }
  }
  setTimeout(poll, 300);
})();
