"""Known advisories from PyPI's package pages, for machines where pip-audit's
services do not answer (``make audit`` runs this only then; docs/security.md).

pip-audit asks osv.dev or PyPI's per-release JSON (``/pypi/NAME/VERSION/json``).
Where neither answers but PyPI's per-package JSON (``/pypi/NAME/json``) does, as
behind this workplace's PyPI mirror, that page still lists the advisories of the
package's *latest* release under ``vulnerabilities`` (the same PyPA/OSV data
pip-audit would read). So every installed package that is at its latest release is
checked exactly; any other is named as unchecked. Exit 1 on an advisory found
(not listed in ``--ignore``), 2 when PyPI does not answer; 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata

PAGE = "https://pypi.org/pypi/{name}/json"


def installed() -> dict[str, str]:
    """Every installed distribution but the project itself (installed editable)."""
    found = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name and name.lower() != "mixer":
            found[name.lower()] = dist.version
    return found


def page(name: str) -> dict | None:
    try:
        url = PAGE.format(name=name)  # https only
        with urllib.request.urlopen(url, timeout=20) as answer:  # noqa: S310
            return json.load(answer)
    except Exception:
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ignore", action="append", default=[], metavar="ID")
    ignore = set(parser.parse_args().ignore)
    packages = sorted(installed().items())
    with ThreadPoolExecutor(16) as pool:
        pages = list(pool.map(page, (name for name, _ in packages)))
    if all(p is None for p in pages):
        print("audit: PyPI's package pages do not answer either; nothing checked.")
        return 2
    found, unchecked = [], []
    for (name, version), data in zip(packages, pages, strict=True):
        latest = (data or {}).get("info", {}).get("version")
        if data is None or latest != version:
            unchecked.append(f"{name} {version} (latest {latest or 'unknown'})")
            continue
        for advisory in data.get("vulnerabilities") or []:
            ids = {advisory.get("id"), *(advisory.get("aliases") or [])}
            if not ids & ignore:
                fixed = ", ".join(advisory.get("fixed_in") or []) or "no fix yet"
                found.append(
                    f"{name} {version}: {advisory.get('id')} (fixed in {fixed})"
                )
    checked = len(packages) - len(unchecked)
    print(
        f"audit: {checked} of {len(packages)} packages checked, {len(found)} advisories"
    )
    for line in found:
        print("  ADVISORY", line)
    if unchecked:
        print("  not checked (not the latest release, PyPI lists only its advisories):")
        for line in unchecked:
            print("   ", line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
