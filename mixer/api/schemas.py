"""The base of every API schema, and the documented error body.

Feature schemas subclass :class:`Schema`: a JSON body carrying a field the schema
does not know is refused with 400 naming that field (a typo must not be ignored).
"""

from __future__ import annotations

import marshmallow as ma

from mixer.urls import MAX_ID

# Text with something besides spaces, as the API document's ``pattern`` (searched,
# not matched) and as Python's ``str.strip`` see it: the control characters
# \x1c-\x1f are spaces to Python but not to every regular-expression engine.
NONBLANK = r"[^\s\x1c-\x1f]"


class Schema(ma.Schema):
    """Base schema for API input and output: unknown input fields are an error."""

    class Meta:
        unknown = ma.RAISE


class ErrorDetailSchema(Schema):
    """What went wrong, for people and for programs."""

    code = ma.fields.String(
        required=True,
        metadata={
            "description": "Stable machine-readable code, e.g. `invalid_input`, "
            "`unauthorized`, `not_found`, `unsupported_media_type`.",
            "example": "invalid_input",
        },
    )
    message = ma.fields.String(
        required=True,
        metadata={
            "description": "A sentence for people; for validation errors it names "
            "the fields.",
            "example": "Invalid input. name: Shorter than minimum length 1.",
        },
    )
    field_messages = ma.fields.Dict(
        data_key="fields",
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        required=True,
        metadata={
            "description": "Messages per input field (nested fields as "
            "`parent.child`); empty when the error is not about a field.",
            "example": {"name": ["Shorter than minimum length 1."]},
        },
    )


class ErrorSchema(Schema):
    """The body of every error response."""

    error = ma.fields.Nested(ErrorDetailSchema, required=True)


class TrimmedString(ma.fields.String):
    """A string with surrounding whitespace removed on input (``" Ada "`` → "Ada")."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


class Id(ma.fields.Integer):
    """The id of an object in a body or query string: 1 to ``MAX_ID`` (the
    databases' integer range), so an id that cannot exist is a 400 naming the
    field, never a database error. The bounds appear in the OpenAPI document."""

    def __init__(self, **kwargs) -> None:
        given = kwargs.pop("validate", None)
        extra = [given] if callable(given) else list(given or ())
        super().__init__(validate=[ma.validate.Range(1, MAX_ID), *extra], **kwargs)
