"""The message catalogues for the tests: compiled from the committed .po files
when a fresh clone has no .mo (or an older one), and the messages of the source
extracted with Babel's own API, as ``make translations`` extracts them."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from mixer.i18n import SUPPORTED, TRANSLATIONS

ROOT = TRANSLATIONS.parent
LANGUAGES = [code for code in SUPPORTED if code != "en"]
# As the Makefile's BABEL_KEYWORDS: Babel's defaults plus our lazy names.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_ngettext": (1, 2)}
# Where marked strings live (babel.cfg); nothing else is walked.
SOURCES = ("mixer", "templates")


def po_path(language: str) -> Path:
    """The committed catalogue of ``language``."""
    return TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"


def read_catalogue(language: str) -> Catalog:
    """The .po of ``language`` as Babel reads it."""
    with po_path(language).open("rb") as fh:
        return read_po(fh, locale=language)


def compile_catalogues() -> None:
    """Compile each .po to its .mo when the .mo is missing or older. Written to
    a temporary file and moved into place, so parallel test processes never
    read half a file."""
    for language in LANGUAGES:
        po = po_path(language)
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        catalogue = read_catalogue(language)
        handle, temporary = tempfile.mkstemp(dir=mo.parent, suffix=".mo.tmp")
        with os.fdopen(handle, "wb") as fh:
            write_mo(fh, catalogue)
        os.replace(temporary, mo)


def _ours(path: str) -> bool:
    """Walk only the folders that hold marked strings."""
    relative = Path(path).relative_to(ROOT).parts
    return bool(relative) and relative[0] in SOURCES


def source_messages() -> Catalog:
    """The messages marked in mixer/ and templates/ now (babel.cfg's mapping)."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    catalogue = Catalog()
    found = extract_from_dir(
        str(ROOT),
        method_map,
        options_map,
        keywords=KEYWORDS,
        comment_tags=("TRANSLATORS:",),
        directory_filter=_ours,
    )
    for filename, lineno, message, comments, context in found:
        catalogue.add(
            message, None, [(filename, lineno)], auto_comments=comments, context=context
        )
    return catalogue
