"""The catalogues are complete: every message marked in the source (extracted
now, as ``make translations`` does) is translated into German and Arabic, not
fuzzy, with the same placeholders as the English, and every .po compiles.

When this fails after you marked new strings: ``make translations``, translate
the empty and fuzzy entries in translations/de and translations/ar, run it
again (docs/i18n.md)."""

from __future__ import annotations

import io
import re

import pytest
from babel.messages.mofile import read_mo, write_mo

from tests.translations_support import (
    LANGUAGES,
    read_catalogue,
    source_messages,
)

pytestmark = pytest.mark.once  # the same on every database

# %(name)s / %(num)d (gettext's), and {name} (str.format and Jinja's trans)
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdfr]|(?<!\{)\{(\w+)\}(?!\})")


def placeholders(text: str) -> set[str]:
    """The named placeholders a message uses."""
    return {a or b for a, b in PLACEHOLDER.findall(text)}


def _key(message_id: str | tuple[str, ...]) -> str:
    """A message's singular text (its name in failures)."""
    return message_id[0] if isinstance(message_id, tuple) else message_id


def _problems(language: str, source) -> list[str]:
    """Everything wrong with ``language``'s catalogue, one line each."""
    catalogue = read_catalogue(language)
    problems = []
    for message in source:
        if not message.id:
            continue
        name = repr(_key(message.id))[:70]
        found = catalogue.get(message.id, context=message.context)
        if found is None or found.id != message.id:
            problems.append(f"{language}: missing {name}")
            continue
        if found.fuzzy:
            problems.append(f"{language}: fuzzy {name}")
        english = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [found.string] if isinstance(found.string, str) else found.string
        if not all(strings):
            problems.append(f"{language}: empty {name}")
            continue
        wanted = set().union(*(placeholders(e) for e in english))
        used = [placeholders(s) for s in strings]
        if isinstance(message.id, str):
            if used[0] != wanted:
                problems.append(f"{language}: placeholders {used[0]} ≠ {wanted} {name}")
        # A plural form may leave the count out ("one minute", Arabic's "two
        # minutes" in one word), never add one or lose another placeholder.
        elif any(u - wanted for u in used) or set().union(*used) != wanted:
            problems.append(f"{language}: placeholders {used} ≠ {wanted} {name}")
    return problems


def test_every_message_is_translated_into_german_and_arabic():
    source = source_messages()
    assert len(source) > 150  # the extraction found the marked strings at all
    problems = [p for language in LANGUAGES for p in _problems(language, source)]
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_catalogue_compiles_without_leftovers(language):
    """No obsolete (#~) entries, a header that says its language and plurals, and
    a compiled catalogue that reads back with every message."""
    catalogue = read_catalogue(language)
    assert list(catalogue.obsolete) == []
    assert str(catalogue.locale) == language
    assert catalogue.num_plurals == {"de": 2, "ar": 6}[language]
    assert not catalogue.fuzzy, "the header is marked fuzzy: pybabel skips it"
    assert list(catalogue.check()) == []  # Babel's own checks (python-format …)
    buffer = io.BytesIO()
    write_mo(buffer, catalogue)
    buffer.seek(0)
    compiled = read_mo(buffer)
    assert len(compiled) == len(catalogue)
