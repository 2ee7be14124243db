/* Behaviour shared by all pages, kept out of the markup so that the Content
   Security Policy can forbid inline scripts and event handlers:
   - forms with data-confirm ask before they are sent,
   - buttons with data-action="print" print the page. */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    const message = event.target.dataset ? event.target.dataset.confirm : null;
    if (message && !window.confirm(message)) event.preventDefault();
  });
  document.addEventListener("click", function (event) {
    const button = event.target.closest ? event.target.closest("[data-action='print']") : null;
    if (button) window.print();
  });
})();
