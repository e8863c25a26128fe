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
    deepLinking: true,
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
})();
