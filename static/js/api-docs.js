// Renders /api/v1/docs with the vendored Swagger UI. Our CSP forbids inline
// scripts, so the spec URL comes from the page's data-spec-url attribute.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  window.SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    // No links inside the operations' buttons (nested controls, which screen readers
    // cannot reach).
    deepLinking: false,
    layout: "BaseLayout",
    presets: [window.SwaggerUIBundle.presets.apis],
    // No calls to the public validator service: the page talks only to us.
    validatorUrl: null,
    // A pasted token lives in this tab only, never in localStorage.
    persistAuthorization: false,
    tryItOutEnabled: false,
    displayRequestDuration: true,
    defaultModelsExpandDepth: 0
  });

  // Swagger UI's authorization dialog names its buttons badly for screen readers:
  // an icon-only close button, and "Authorize" / "Logout" buttons whose spoken
  // names ("Apply credentials") do not contain the words shown (WCAG 2.5.3).
  function nameButtons() {
    root.querySelectorAll(".close-modal:not([aria-label])").forEach(function (button) {
      button.setAttribute("aria-label", "Close");
    });
    root.querySelectorAll(".modal-btn[aria-label]").forEach(function (button) {
      var shown = button.textContent.trim(), label = button.getAttribute("aria-label");
      if (shown && label.indexOf(shown) === -1) {
        button.setAttribute("aria-label", shown + " (" + label.toLowerCase() + ")");
      }
    });
  }
  new MutationObserver(nameButtons).observe(root, { childList: true, subtree: true });
})();
