/* Poll an import run's state until it is finished, then reload to show the summary
   (on the mapping page: until the table is inspected, then reload to show the form). */
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
    function show(id, value) {
      const element = document.getElementById(id);
      if (element) element.textContent = value;
    }
    show("progress-percent", run.percent);
    show("rows-read", run.rows_read);
    show("rows-written", run.rows_written);
    show("run-status", run.status_label);
    if (active.indexOf(run.status) >= 0) {
      setTimeout(poll, 700);
    } else {
      window.location.reload();
    }
  }
  setTimeout(poll, 300);
})();
