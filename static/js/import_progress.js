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
  PRISMA.poll(url, function (run) {
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
    if (active.indexOf(run.status) >= 0) return true;
    window.location.reload();
    return false;
  }, 700, 300);
})();
