"""Lists come page by page: ?page=&per_page=, counts in the body, RFC 8288 links."""

from __future__ import annotations

import re

import pytest

from tests.api.conftest import assert_error


def _links(resp) -> dict[str, str]:
    header = resp.headers.get("Link", "")
    return {rel: url for url, rel in re.findall(r'<([^>]+)>;\s*rel="([^"]+)"', header)}


@pytest.fixture
def crowd(make_org, make_user, api_as):
    """An org with 12 members named Member 01..12 (sorted by name) and a client."""
    org = make_org(slug="crowd")
    viewer = make_user(org, name="Member 01")
    for n in range(2, 13):
        make_user(org, name=f"Member {n:02d}")
    return api_as(viewer, org)


@pytest.fixture
def solo(make_org, make_user, api_as):
    org = make_org()
    return api_as(make_user(org), org)


def _names(resp) -> list[str]:
    return [m["name"] for m in resp.get_json()["items"]]


def test_pages_slice_the_list_and_say_how_many(crowd):
    resp = crowd.get("/api/v1/members?per_page=5&page=2")
    assert resp.status_code == 200
    body = resp.get_json()
    assert {k: body[k] for k in ("page", "per_page", "total", "pages")} == {
        "page": 2,
        "per_page": 5,
        "total": 12,
        "pages": 3,
    }
    assert _names(resp) == [f"Member {n:02d}" for n in range(6, 11)]


def test_link_header_has_first_prev_next_last(crowd):
    resp = crowd.get("/api/v1/members?per_page=5&page=2&q=member")
    links = _links(resp)
    assert set(links) == {"first", "prev", "next", "last"}
    assert links["next"].startswith("http://mixer.test/api/v1/members?")
    assert "page=3" in links["next"] and "page=1" in links["prev"]
    assert "page=3" in links["last"] and "page=1" in links["first"]
    for url in links.values():  # the other parameters are kept
        assert "per_page=5" in url and "q=member" in url

    # following "next" twice walks the whole list without gaps or repeats
    seen = _names(crowd.get("/api/v1/members?per_page=5"))
    url = _links(crowd.get("/api/v1/members?per_page=5"))["next"]
    while url:
        page = crowd.get(url.removeprefix("http://mixer.test"))
        seen += _names(page)
        url = _links(page).get("next")
    assert seen == [f"Member {n:02d}" for n in range(1, 13)]


def test_first_and_last_pages_have_no_prev_or_next(crowd):
    first = _links(crowd.get("/api/v1/members?per_page=5"))
    assert "prev" not in first and "next" in first
    last = _links(crowd.get("/api/v1/members?per_page=5&page=3"))
    assert "next" not in last and "prev" in last


def test_default_page_size_comes_from_config(app, crowd):
    app.config["API_PAGE_SIZE"] = 4
    body = crowd.get("/api/v1/members").get_json()
    assert body["per_page"] == 4 and len(body["items"]) == 4 and body["pages"] == 3


def test_per_page_is_at_most_100(crowd):
    assert crowd.get("/api/v1/members?per_page=100").status_code == 200
    error = assert_error(crowd.get("/api/v1/members?per_page=101"), 400)
    assert list(error["fields"]) == ["per_page"]
    assert "per_page" in error["message"]


@pytest.mark.parametrize(
    "query, field",
    [
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=abc", "page"),
        ("page=1.5", "page"),
        ("page=", "page"),
        ("page=99999999999", "page"),
        ("per_page=0", "per_page"),
        ("per_page=ten", "per_page"),
    ],
)
def test_bad_page_values_are_400(solo, query, field):
    error = assert_error(solo.get(f"/api/v1/members?{query}"), 400, "invalid_input")
    assert list(error["fields"]) == [field]


def test_a_page_past_the_end_is_empty_not_an_error(crowd):
    resp = crowd.get("/api/v1/members?per_page=5&page=9")
    body = resp.get_json()
    assert body["items"] == [] and body["total"] == 12 and body["pages"] == 3
    links = _links(resp)
    assert "page=3" in links["prev"] and "next" not in links


def test_an_empty_list_has_no_links(crowd):
    resp = crowd.get("/api/v1/members?q=nobody-by-this-name")
    assert resp.get_json() == {
        "items": [],
        "page": 1,
        "per_page": 50,
        "total": 0,
        "pages": 0,
    }
    assert "Link" not in resp.headers


def test_unknown_query_parameters_are_refused_naming_the_known_ones(solo):
    """As with bodies, a misspelt filter must not quietly list everything."""
    error = assert_error(solo.get("/api/v1/members?rol=admin&_=123"), 400)
    assert error["fields"] == {
        "_": ["Unknown parameter."],
        "rol": ["Unknown parameter."],
    }
    assert error["message"] == (
        "Unknown query parameter(s): '_', 'rol'; this URL takes department, "
        "page, per_page, q, role."
    )
    assert assert_error(solo.get("/api/v1/org?x=1"), 400)["message"] == (
        "Unknown query parameter(s): 'x'."
    )


def test_page_helper_counts_in_sql_and_in_memory(app):
    from sqlalchemy import select

    from mixer.api.pagination import fetch_page
    from mixer.orgs.models import Organization
    from mixer.orgs.services import create_organization

    for n in range(7):
        create_organization(f"p{n}", f"P{n}")
    page = fetch_page(select(Organization).order_by(Organization.slug), 2, 3)
    assert [o.slug for o in page.items] == ["p3", "p4", "p5"]
    assert (page.total, page.pages) == (7, 3)
    listed = fetch_page(list("abcdefg"), 3, 3)
    assert listed.items == ["g"] and listed.pages == 3


def test_member_list_queries_do_not_grow_with_the_page(make_org, make_user, api_as):
    from sqlalchemy import event

    from mixer.extensions import db

    org = make_org()
    client = api_as(make_user(org, department="D0"), org)
    statements: list[str] = []

    def count(*args):
        statements.append(args[2])

    def queries_for(url: str) -> int:
        client.get(url)  # warm-up: last_used_at is written once a minute
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    few = queries_for("/api/v1/members?per_page=3")
    for n in range(30):
        make_user(org, department=f"D{n % 4}")
    assert queries_for("/api/v1/members?per_page=30") == few
