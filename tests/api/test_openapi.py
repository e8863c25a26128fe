"""The OpenAPI 3 document and the readable docs page."""

from __future__ import annotations

import re

import pytest

from mixer import create_app

FOUNDATION_PATHS = {
    "/api/v1/": {"get"},
    "/api/v1/org": {"get"},
    "/api/v1/departments": {"get"},
    "/api/v1/members": {"get"},
    "/api/v1/members/{member_id}": {"get"},
    "/api/v1/tokens": {"get"},
    "/api/v1/tokens/{token_id}": {"patch", "delete"},
}


@pytest.fixture
def spec(client) -> dict:
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    assert resp.mimetype == "application/json"
    return resp.get_json()


def test_spec_is_valid_openapi_3(spec):
    from openapi_spec_validator import validate  # a test dependency (pyproject)

    validate(spec)  # raises on any structural error
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] == "Mixer API"


def test_spec_lists_the_foundation_endpoints(spec):
    for path, methods in FOUNDATION_PATHS.items():
        assert path in spec["paths"], path
        assert methods <= set(spec["paths"][path]), path


def test_spec_declares_bearer_auth_everywhere(spec):
    scheme = spec["components"]["securitySchemes"]["bearerAuth"]
    assert scheme == {**scheme, "type": "http", "scheme": "bearer"}
    assert spec["security"] == [{"bearerAuth": []}]
    for path in FOUNDATION_PATHS:
        for operation in spec["paths"][path].values():
            if isinstance(operation, dict) and "responses" in operation:
                assert operation["security"] == [{"bearerAuth": []}]
                assert "401" in operation["responses"]


def test_spec_documents_the_error_shape(spec):
    schemas = spec["components"]["schemas"]
    assert schemas["Error"]["properties"]["error"] == {
        "$ref": "#/components/schemas/ErrorDetail"
    }
    assert set(schemas["ErrorDetail"]["required"]) == {"code", "message", "fields"}
    responses = spec["components"]["responses"]
    for name in ("UNAUTHORIZED", "BAD_REQUEST", "NOT_FOUND", "DEFAULT_ERROR"):
        content = responses[name]["content"]["application/json"]
        assert content["schema"] == {"$ref": "#/components/schemas/Error"}
    patch = spec["paths"]["/api/v1/tokens/{token_id}"]["patch"]["responses"]
    assert {"400", "404", "413", "415"} <= set(patch)


def test_spec_documents_pagination(spec):
    get = spec["paths"]["/api/v1/members"]["get"]
    params = {p["name"]: p for p in get["parameters"]}
    assert {"page", "per_page", "q", "department"} <= set(params)
    assert params["per_page"]["schema"]["maximum"] == 100
    ok = get["responses"]["200"]
    assert ok["headers"]["Link"] == {"$ref": "#/components/headers/LINK"}
    page = spec["components"]["schemas"]["MemberPage"]
    assert set(page["properties"]) == {"items", "page", "per_page", "total", "pages"}
    assert page["properties"]["items"]["items"] == {
        "$ref": "#/components/schemas/Member"
    }
    assert "400" in get["responses"]


def test_spec_is_public_and_needs_no_token(client):
    assert client.get("/api/v1/openapi.json").status_code == 200


def test_cdn_based_uis_are_not_served_even_when_configured(app_config):
    app = create_app(
        {
            **app_config,
            "OPENAPI_SWAGGER_UI_PATH": "swagger-ui",
            "OPENAPI_SWAGGER_UI_URL": "https://cdn.example.org/swagger/",
            "OPENAPI_REDOC_PATH": "redoc",
            "OPENAPI_REDOC_URL": "https://cdn.example.org/redoc.js",
            "OPENAPI_RAPIDOC_PATH": "rapidoc",
            "OPENAPI_RAPIDOC_URL": "https://cdn.example.org/rapidoc.js",
        }
    )
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert "api-docs.openapi_json" in endpoints
    assert not {e for e in endpoints if e.startswith("api-docs.")} - {
        "api-docs.openapi_json"
    }
    client = app.test_client()
    for path in ("swagger-ui", "redoc", "rapidoc"):
        with client.get(f"/api/v1/{path}") as resp:
            assert resp.status_code == 404


def test_docs_page_uses_vendored_swagger_and_no_inline_script(client):
    resp = client.get("/api/v1/docs")
    assert resp.status_code == 200
    assert resp.mimetype == "text/html"
    html = resp.get_data(as_text=True)
    assert 'data-spec-url="/api/v1/openapi.json"' in html
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.S)
    # (each with its content version, ?v=…: mixer.web.static_version)
    assert [re.sub(r"\?v=[0-9a-f]+", "", attrs) for attrs, _ in scripts] == [
        ' src="/static/vendor/swagger-ui/swagger-ui-bundle.js"',
        ' src="/static/js/api-docs.js"',
    ]
    assert all(body.strip() == "" for _, body in scripts)
    assert "/static/vendor/swagger-ui/swagger-ui.css" in html
    assert not re.search(r"https?://(?!mixer\.test)", html.replace("http://www.w3", ""))
    assert re.search(r"\son\w+=", html) is None  # no inline event handlers
    csp = resp.headers["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]+)", csp).group(1).split()
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert all(
        s in ("'self'", "'wasm-unsafe-eval'") or s.startswith("'nonce-")
        for s in script_src
    )
    for asset in (
        "/static/vendor/swagger-ui/swagger-ui-bundle.js",
        "/static/vendor/swagger-ui/swagger-ui.css",
        "/static/js/api-docs.js",
    ):
        with client.get(asset) as served:
            assert served.status_code == 200, asset


def test_footer_links_to_the_docs_page(client):
    assert 'href="/api/v1/docs"' in client.get("/login").get_data(as_text=True)


@pytest.mark.browser
def test_docs_page_renders_in_chromium_under_our_csp(live_server, browser):
    """Swagger UI draws every operation with no CSP violation or script error."""
    problems: list[str] = []
    page = browser.new_page(viewport={"width": 360, "height": 740})
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{live_server}/api/v1/docs")
    page.wait_for_selector(".opblock", timeout=15_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    page.locator("button.authorize").first.click()
    page.wait_for_selector("text=bearerAuth")
    assert not problems, problems
    assert "/api/v1/members/{member_id}" in [p.replace("\u200b", "") for p in paths]


def _resolve(spec: dict, node: dict) -> dict:
    while "$ref" in node:
        node = spec["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _example(spec: dict, schema: dict):
    """A body made of the document's own examples (objects and lists of them)."""
    schema = _resolve(spec, schema)
    if "example" in schema:
        return schema["example"]
    if schema.get("type") == "array":
        return [_example(spec, schema["items"])]
    return {
        name: _example(spec, prop)
        for name, prop in schema.get("properties", {}).items()
        if "example" in _resolve(spec, prop) or _resolve(spec, prop).get("items")
    }


def test_the_create_event_example_is_an_event_the_server_accepts(
    spec, client, org, organizer, token_for
):
    body = _example(spec, {"$ref": "#/components/schemas/EventInput"})
    assert body["agenda"][0]["starts_at"] == "2026-03-05T12:15:00+01:00"
    resp = client.post(
        "/api/v1/events",
        json=body,
        headers={"Authorization": f"Bearer {token_for(organizer, org)}"},
    )
    assert resp.status_code == 201, resp.get_json()
    event = resp.get_json()
    assert (event["kind"], event["title"]) == ("workshop", "Negotiation basics")
    assert [s["title"] for s in event["sessions"]] == ["Anchoring and first offers"]


def test_every_required_body_is_refused_when_left_out(
    spec, client, make_org, make_user, token_for
):
    """What the document calls required, the server requires: each operation
    with a required JSON body answers 400 ``missing_body`` without one."""
    org = make_org()
    headers = {
        "Authorization": f"Bearer {token_for(make_user(org, role='admin'), org)}"
    }
    checked = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody") if isinstance(operation, dict) else None
            if not body or "application/json" not in body["content"]:
                continue
            url = re.sub(r"{[^}]+}", "1", path)
            resp = client.open(url, method=method.upper(), headers=headers)
            if body["required"]:
                assert resp.status_code == 400, (method, path)
                assert resp.get_json()["error"]["code"] == "missing_body"
                checked.append(f"{method.upper()} {path}")
            else:
                assert resp.get_json().get("error", {}).get("code") != "missing_body"
    assert {"PATCH /api/v1/events/{event_id}", "POST /api/v1/events"} <= set(checked)
    assert len(checked) >= 5


def test_rotation_and_checkin_input_state_their_rules(spec):
    schemas = spec["components"]["schemas"]
    rotation = schemas["RotationInput"]["properties"]
    assert rotation["mode"]["enum"] == ["mentor_mentee", "peer"]
    assert rotation["group_size"]["enum"] == [2, 3]
    assert (rotation["rounds"]["minimum"], rotation["rounds"]["maximum"]) == (1, 50)
    assert (rotation["minutes"]["minimum"], rotation["minutes"]["maximum"]) == (1, 120)
    rotations = spec["paths"]["/api/v1/events/{event_id}/rotations"]["post"]
    assert rotations["requestBody"]["required"] is False
    checkin = schemas["CheckinInput"]
    assert checkin["properties"]["nonce"]["pattern"] == "^[A-Za-z0-9_.:-]{8,64}$"
    assert checkin["anyOf"] == [{"required": ["token"]}, {"required": ["url"]}]
    assert checkin["properties"]["event_id"]["maximum"] == 2**31 - 1
    email = schemas["RegistrationInput"]["properties"]["email"]
    assert (email["format"], email["maxLength"]) == ("email", 254)
    assert "lower case" in email["description"]
