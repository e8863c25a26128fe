"""Page-by-page lists: ``?page=&per_page=``, one body shape and RFC 8288 links.

A feature makes a list endpoint paginated with one line::

    @blp.route("/members")
    @token_required()
    @blp.paginated(MemberSchema)
    def members():
        return select(Membership).where(...).order_by(...)

The view returns an *ordered* SQLAlchemy ``Select`` (counted and sliced in SQL;
one entity gives objects, several columns give rows) or a list. The response
body is ``{"items", "page", "per_page", "total", "pages"}`` and the ``Link``
header carries ``first``, ``prev``, ``next`` and ``last``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from copy import deepcopy
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING, Any

import marshmallow as ma
from flask import current_app, request
from sqlalchemy import Select, func, select

from mixer.api.parser import parser
from mixer.api.schemas import Schema
from mixer.extensions import db
from mixer.urls import absolute_url

if TYPE_CHECKING:
    from mixer.api.blueprint import Blueprint

MAX_PER_PAGE = 100
MAX_PAGE = 1_000_000  # keeps OFFSET within every database's integer range


class PageArgsSchema(Schema):
    """The query parameters of every paginated list."""

    page = ma.fields.Integer(
        load_default=1,
        validate=ma.validate.Range(min=1, max=MAX_PAGE),
        metadata={"description": "Page number, from 1."},
    )
    per_page = ma.fields.Integer(
        validate=ma.validate.Range(min=1, max=MAX_PER_PAGE),
        metadata={
            "description": f"Items per page, 1–{MAX_PER_PAGE} "
            "(default: the server's `API_PAGE_SIZE`, 50)."
        },
    )


LINK_HEADER = {
    "description": "RFC 8288 links to the `first`, `prev`, `next` and `last` pages "
    "(absolute URLs keeping the other query parameters), e.g. "
    '`<https://mixer.example.org/api/v1/members?page=2>; rel="next"`.',
    "schema": {"type": "string"},
}


@dataclass
class Page:
    """One page of a list, as the response body shows it."""

    items: Sequence[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return math.ceil(self.total / self.per_page) if self.total else 0

    def links(self) -> dict[str, int]:
        """Relation → page number, for the ``Link`` header."""
        rels: dict[str, int] = {}
        if self.pages:
            rels["first"] = 1
            if self.page > 1:
                rels["prev"] = min(self.page - 1, self.pages)
            if self.page < self.pages:
                rels["next"] = self.page + 1
            rels["last"] = self.pages
        return rels


def fetch_page(result: Select | Sequence[Any], page: int, per_page: int) -> Page:
    """Count and slice ``result``: a ``Select`` in SQL, a sequence in memory."""
    if isinstance(result, Select):
        total = db.session.scalar(
            select(func.count()).select_from(result.order_by(None).subquery())
        )
        sliced = result.limit(per_page).offset((page - 1) * per_page)
        # One entity → the objects; several columns → rows (attribute access).
        rows = (
            db.session.scalars(sliced)
            if len(result.column_descriptions) == 1
            else db.session.execute(sliced)
        )
        return Page(list(rows.all()), page, per_page, total or 0)
    start = (page - 1) * per_page
    return Page(list(result[start : start + per_page]), page, per_page, len(result))


def link_header(page: Page) -> str:
    """The RFC 8288 ``Link`` value for ``page`` (empty when the list is empty)."""
    query = {k: request.args.getlist(k) for k in request.args if k != "page"}
    parts = []
    for rel, number in page.links().items():
        url = absolute_url(
            request.endpoint or "", **(request.view_args or {}), **query, page=number
        )
        parts.append(f'<{url}>; rel="{rel}"')
    return ", ".join(parts)


_page_schemas: dict[type[ma.Schema], type[Schema]] = {}


def page_schema(item_schema: type[ma.Schema]) -> type[Schema]:
    """The envelope schema ``{items, page, per_page, total, pages}`` for items."""
    if item_schema not in _page_schemas:
        # Named after the item ("MemberSchema" → "MemberPage" in the spec).
        name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
        _page_schemas[item_schema] = type(
            name,
            (Schema,),
            {
                "__doc__": f"A page of {item_schema.__name__.removesuffix('Schema')} "
                "items.",
                "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
                "page": ma.fields.Integer(
                    required=True, metadata={"description": "This page's number."}
                ),
                "per_page": ma.fields.Integer(
                    required=True, metadata={"description": "Items per page."}
                ),
                "total": ma.fields.Integer(
                    required=True,
                    metadata={"description": "Items in the whole list."},
                ),
                "pages": ma.fields.Integer(
                    required=True,
                    metadata={"description": "Number of pages (0 for an empty list)."},
                ),
            },
        )
    return _page_schemas[item_schema]


def paginated(blp: Blueprint, item_schema: type[ma.Schema]) -> Callable:
    """Decorate a list view returning a ``Select`` or list; see the module doc."""
    envelope = page_schema(item_schema)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def paged(*args: Any, **kwargs: Any):
            params = parser.parse(PageArgsSchema(), location="query")
            per_page = params.get("per_page") or current_app.config["API_PAGE_SIZE"]
            page = fetch_page(view(*args, **kwargs), params["page"], per_page)
            headers = {"Link": link_header(page)} if page.total else {}
            return page, 200, headers

        # flask-smorest's pagination hook documents the parameters, the 400 and,
        # through Blueprint._document_pagination_metadata, the Link header.
        paged._apidoc = deepcopy(getattr(paged, "_apidoc", {}))  # type: ignore[attr-defined]
        paged._apidoc["pagination"] = {  # type: ignore[attr-defined]
            "parameters": {"in": "query", "schema": PageArgsSchema},
            "response": {400: "BAD_REQUEST"},
        }
        return blp.response(200, envelope)(paged)

    return decorator
