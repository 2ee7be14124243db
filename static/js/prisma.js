/* Behaviour shared by all pages, kept out of the markup so that the Content
   Security Policy can forbid inline scripts and event handlers:
   - forms with data-confirm ask before they are sent,
   - buttons with data-action="print" print the page,
   - PRISMA.el builds DOM nodes for the other scripts.

   Output encoding rule for every script: text from the server (names, units,
   layer names, messages) never passes through innerHTML or a Leaflet tooltip or
   popup string. Build nodes with PRISMA.el (children given as strings become
   text nodes) or set textContent; a Leaflet tooltip or popup gets a node. */
(function () {
  "use strict";

  /* An element with attributes and children. Attribute values are set with
     setAttribute (never parsed as markup); "class" and "text" are shortcuts for
     className and textContent. Children may be nodes, strings (inserted as
     text), numbers, or null/undefined/false (skipped); arrays are flattened. */
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      const value = attrs[name];
      if (value === null || value === undefined || value === false) return;
      if (name === "class") node.className = String(value);
      else if (name === "text") node.textContent = String(value);
      else node.setAttribute(name, String(value));
    });
    append(node, children);
    return node;
  }

  function append(node, children) {
    if (children === null || children === undefined || children === false) return node;
    (Array.isArray(children) ? children : [children]).forEach(function (child) {
      if (Array.isArray(child)) append(node, child);
      else if (child === null || child === undefined || child === false) return;
      else if (child instanceof Node) node.appendChild(child);
      else node.appendChild(document.createTextNode(String(child)));
    });
    return node;
  }

  /* Poll a JSON status URL: show(data) is called with every answer and returns
     true while there is more to wait for; then poll asks again after `every` ms.
     A failed request (network, 5xx) is retried after 3 s: a progress page keeps
     going through a short outage. */
  function poll(url, show, every, first) {
    async function ask() {
      let data;
      try {
        const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
        if (!response.ok) throw new Error(String(response.status));
        data = await response.json();
      } catch (error) {
        setTimeout(ask, 3000);
        return;
      }
      if (show(data)) setTimeout(ask, every);
    }
    setTimeout(ask, first);
  }

  window.PRISMA = Object.freeze({ el: el, append: append, poll: poll });

  document.addEventListener("submit", function (event) {
    const message = event.target.dataset ? event.target.dataset.confirm : null;
    if (message && !window.confirm(message)) event.preventDefault();
  });
  document.addEventListener("click", function (event) {
    const button = event.target.closest ? event.target.closest("[data-action='print']") : null;
    if (button) window.print();
  });
})();
