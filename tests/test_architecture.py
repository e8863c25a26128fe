"""The shape of the code, checked: features import downward only, never in circles,
and never inside functions.

The graph is built from the source (every ``import`` and ``from … import`` of a
``mixer`` module, including those under ``if TYPE_CHECKING:``), one node per
top-level part of the package (``mixer/events/`` is ``events``, ``mixer/clock.py``
is ``clock``). ``docs/development.md`` draws the layers.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

# The import graph: the SQLite pass only.
pytestmark = pytest.mark.once

PACKAGE = Path(__file__).resolve().parent.parent / "mixer"

# Lowest first. A part may import its own layer and the layers below it, never one
# above; within a layer the graph must still have no cycle.
LAYERS: list[tuple[str, set[str]]] = [
    (
        "infrastructure (knows no feature)",
        {
            "extensions",
            "db_types",
            "clock",
            "config",
            "errors",
            "signals",
            "concurrency",
            "formatting",
            "urls",
            "tokens",
            "api",
            "web",
            "hostile",
            "storage",
            "audit",
            "i18n",
            "outbound",
        },
    ),
    ("job queue", {"jobs"}),
    ("mail", {"mail"}),
    ("watching (metrics read the job and mail tables)", {"observability"}),
    ("people", {"accounts"}),
    ("organizations", {"orgs", "outbox", "sso", "charter"}),
    ("people's own calendars (free/busy)", {"freebusy"}),
    ("events", {"events"}),
    (
        "at the event",
        {"badges", "checkin", "connections", "speakers", "rotations", "printouts"},
    ),
    ("pairs", {"pairs"}),
    ("around pairs", {"asks", "recognition", "roster", "slots"}),
    ("after the event", {"followup"}),
    ("telling other systems (hears every feature through signals)", {"webhooks"}),
    (
        "looking back over the programme, and data rights (read every feature)",
        {"insights", "privacy"},
    ),
    (
        "the application (may import anything)",
        {
            "__init__",
            "cli",
            "worker",
            "models",
            "demo",
            "main",
            "backup",
            "proxy_pages",
        },
    ),
]
RANK = {part: rank for rank, (_, parts) in enumerate(LAYERS) for part in parts}

# Module-level edges allowed across the layers: SQLAlchemy relationships between
# people and their memberships (the one pair of modules that know each other), and
# the audit page (below).
ALLOWED = {
    ("mixer.accounts.models", "mixer.orgs.models"),
    ("mixer.orgs.models", "mixer.accounts.models"),
    # The audit trail is infrastructure (every feature records into it); its one
    # page borrows the organizations' admin check. Nothing else of it looks up.
    ("mixer.audit.views", "mixer.orgs.access"),
}

# Where a function-local import of a mixer module is allowed: the application
# factory (it wires every feature) and the CLI (commands import what they run).
LOCAL_IMPORTS_ALLOWED = {"mixer/__init__.py", "mixer/cli.py"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _part(module: str) -> str:
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else "__init__"


def _sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _imports(tree: ast.AST, module: str) -> list[tuple[str, int, bool]]:
    """(imported mixer module, line, inside a function?) for every import."""
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(
                child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
            )
            if isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name.split(".")[0] == "mixer":
                        found.append((alias.name, child.lineno, inside))
            elif isinstance(child, ast.ImportFrom) and child.module:
                base = child.module
                if child.level:  # relative: resolve against this module
                    pkg = module.split(".")[: -child.level or None]
                    base = ".".join([*pkg, child.module])
                if base.split(".")[0] != "mixer":
                    continue
                if base == "mixer":  # from mixer import clock, signals
                    for alias in child.names:
                        found.append((f"mixer.{alias.name}", child.lineno, inside))
                else:
                    found.append((base, child.lineno, inside))
            visit(child, inside)

    visit(tree, False)
    return found


def _graph() -> dict[str, dict[str, list[str]]]:
    """part → imported part → ["file:line", ...], without the allowed edges."""
    edges: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in _sources():
        module = _module_name(path)
        source = _part(module)
        for target, line, _ in _imports(ast.parse(path.read_text()), module):
            if (module, target) in ALLOWED or any(
                target.startswith(b + ".") and module == a for a, b in ALLOWED
            ):
                continue
            part = _part(target)
            if part != source:
                where = f"{path.relative_to(PACKAGE.parent)}:{line}"
                edges[source][part].append(where)
    return edges


def _cycles(edges: dict[str, dict[str, list[str]]]) -> list[list[str]]:
    """Strongly connected components with more than one part (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, {}):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    nodes = set(edges) | {w for targets in edges.values() for w in targets}
    for v in sorted(nodes):
        if v not in index:
            strong(v)
    return found


def test_every_part_of_the_package_has_a_layer():
    parts = {_part(_module_name(path)) for path in _sources()}
    assert parts - RANK.keys() == set(), "add new parts to LAYERS"
    assert RANK.keys() - parts == set(), "LAYERS names a part that is gone"


def test_no_import_cycle_between_parts_of_the_package():
    edges = _graph()
    report = []
    for component in _cycles(edges):
        report.append(" ↔ ".join(component))
        for a in component:
            for b in component:
                if b in edges[a]:
                    report.append(f"    {a} → {b}: {', '.join(edges[a][b][:3])}")
    assert report == [], "import cycles:\n" + "\n".join(report)


def test_features_import_only_their_own_layer_and_below():
    upward = [
        f"{a} (layer {RANK[a]}) → {b} (layer {RANK[b]}): {', '.join(where[:3])}"
        for a, targets in sorted(_graph().items())
        for b, where in sorted(targets.items())
        if RANK.get(b, -1) > RANK.get(a, -1)
    ]
    assert upward == [], "imports of a higher layer:\n" + "\n".join(upward)


def test_no_function_local_import_of_a_mixer_module():
    found = []
    for path in _sources():
        relative = str(path.relative_to(PACKAGE.parent))
        if relative in LOCAL_IMPORTS_ALLOWED:
            continue
        module = _module_name(path)
        for target, line, inside in _imports(ast.parse(path.read_text()), module):
            if inside:
                found.append(f"{relative}:{line} imports {target}")
    assert found == [], "imports inside functions:\n" + "\n".join(found)


def test_the_checks_see_a_cycle_and_a_local_import(tmp_path):
    """The checks themselves can fail: a made-up cycle and a local import."""
    edges = {"a": {"b": ["x"]}, "b": {"c": ["y"]}, "c": {"a": ["z"]}, "d": {}}
    assert _cycles(edges) == [["a", "b", "c"]]
    tree = ast.parse("import os\ndef f():\n    from mixer.events import models\n")
    assert _imports(tree, "mixer.x") == [("mixer.events", 3, True)]


def test_people_and_organizations_meet_only_in_their_models():
    """Apart from the models' relationships, orgs builds on accounts, not back."""
    assert "orgs" not in _graph().get("accounts", {})
