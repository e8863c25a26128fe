"""The badge renderer loads data: URIs and our static files, and nothing else."""

from __future__ import annotations

import pytest
from weasyprint import HTML

from mixer.badges.fetcher import STATIC_FOLDER, FetchRefused, StaticOnlyFetcher

FAVICON = STATIC_FOLDER / "img" / "favicon.svg"


class RecordingFetcher(StaticOnlyFetcher):
    """Remembers what it served, so a render can be checked end to end."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.served: list[str] = []

    def fetch(self, url, headers=None):
        response = super().fetch(url, headers)
        self.served.append(url)
        return response


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://example.org/x.png",
        "https://example.org/x.png",
        "ftp://example.org/x.png",
        "file://localhost/etc/passwd",
        "file://example.org/etc/passwd",
        # Climbing out of the static folder with "..", raw or percent-encoded.
        FAVICON.parent.as_uri() + "/../../pyproject.toml",
        FAVICON.parent.as_uri() + "/%2e%2e/%2e%2e/pyproject.toml",
        # A missing file inside static is refused too, not fetched from elsewhere.
        STATIC_FOLDER.as_uri() + "/nothing-here.png",
    ],
)
def test_refuses_everything_but_static_files_and_data(url):
    fetcher = StaticOnlyFetcher()
    with pytest.raises(FetchRefused, match="badges may not load"):
        fetcher.fetch(url)
    assert fetcher.refused == [url]


def test_refuses_a_symlink_leading_out_of_the_static_folder(tmp_path):
    static = tmp_path / "static"
    static.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("not for badges")
    (static / "logo.png").symlink_to(secret)
    fetcher = StaticOnlyFetcher(static_folder=static)
    with pytest.raises(FetchRefused, match="badges may not load"):
        fetcher.fetch((static / "logo.png").as_uri())


def test_serves_static_files_and_data_uris():
    fetcher = StaticOnlyFetcher()
    response = fetcher.fetch(FAVICON.as_uri())
    assert response.read() == FAVICON.read_bytes()
    assert response.content_type == "image/svg+xml"
    response = fetcher.fetch("data:text/plain;base64,aGVsbG8=")
    assert response.read() == b"hello"
    assert fetcher.refused == []


def test_a_render_never_loads_files_or_network(caplog):
    html = """
    <link rel="stylesheet" href="http://example.org/x.css">
    <img src="file:///etc/passwd">
    <img src="http://example.org/x.png">
    <img src="img/favicon.svg">
    """
    fetcher = RecordingFetcher()
    pdf = HTML(
        string=html, base_url=STATIC_FOLDER.as_uri() + "/", url_fetcher=fetcher
    ).write_pdf()
    assert pdf.startswith(b"%PDF")
    assert sorted(fetcher.refused) == [
        "file:///etc/passwd",
        "http://example.org/x.css",
        "http://example.org/x.png",
    ]
    assert fetcher.served == [FAVICON.as_uri()]  # the relative URL, resolved
    assert "badges may not load 'file:///etc/passwd'" in caplog.text
