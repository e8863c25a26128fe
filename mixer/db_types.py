"""Column types shared by every feature's models."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import DateTime, String
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """An aware UTC datetime on every backend.

    PostgreSQL keeps the zone; SQLite stores naive text, so values are normalised
    to UTC on the way in and marked UTC on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):  # noqa: D102
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):  # noqa: D102
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class StrEnumType(TypeDecorator):
    """A ``StrEnum`` stored as its plain string value (``VARCHAR(length)``).

    Reads come back as enum members, so ``reg.status is
    RegistrationStatus.REGISTERED`` holds; writes take members or their string
    values and refuse anything else. The column is an ordinary string column
    (the database's CHECK constraint lists the values), so adopting it changes
    no schema.
    """

    impl = String
    cache_ok = True

    def __init__(self, enum: type[StrEnum], length: int) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: str | None, dialect):  # noqa: D102
        if value is None:
            return None
        return self.enum(value).value  # ValueError for a value outside the enum

    def process_result_value(self, value: str | None, dialect):  # noqa: D102
        return None if value is None else self.enum(value)

    @property
    def python_type(self) -> type:  # noqa: D102
        return self.enum
