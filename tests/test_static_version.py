"""Static URLs carry a version of their file's content (mixer.web.static_version),
so a proxy may cache them for good and an upgrade changes every changed file's URL."""

from __future__ import annotations

import os
import re

from flask import url_for

from mixer.web import static_version


def test_pages_link_static_files_with_their_content_version(client):
    html = client.get("/login").get_data(as_text=True)
    links = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    assert links, html[:500]
    for link in links:
        path, _, query = link.partition("?")
        assert re.fullmatch(r"v=[0-9a-f]{12}", query), link
        for url in (link, path):  # the version is only a name
            with client.get(url) as served:
                assert served.status_code == 200, url


def test_the_version_follows_the_content(app, tmp_path):
    app.static_folder = str(tmp_path)
    (tmp_path / "a.css").write_text("body { color: red }")
    with app.test_request_context("/"):
        first = url_for("static", filename="a.css")
        (tmp_path / "a.css").write_text("body { color: blue }")
        os.utime(tmp_path / "a.css", ns=(1, 1))  # a new mtime: read again
        second = url_for("static", filename="a.css")
        assert first != second
        assert second.endswith("?v=" + static_version(app, "a.css"))
        # A file that is not there gets no version (Flask answers 404 for it).
        assert url_for("static", filename="missing.js") == "/static/missing.js"
