"""The house is easy to walk: pages stay thin, the store knows no engines, and no module of ours needs
another to be imported late to avoid a cycle."""

import ast
from pathlib import Path

from tests.conftest import ROOT

PAGE_MAY_IMPORT = {"core.api", "core.models", "core.formatting", "core.insights"}


def our_imports(path: Path) -> list[tuple[str, bool]]:
    """(module, imported at module level) for every import of our own packages in a file."""
    tree = ast.parse(path.read_text())
    top = set(map(id, tree.body))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] in ("core", "pages"):
                found.append((name, id(node) in top))
    return found


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def core_modules() -> dict[str, Path]:
    return {module_name(p): p for p in (ROOT / "core").rglob("*.py")}


def test_pages_import_only_the_api_models_formatting_and_insights():
    for page in [*(ROOT / "pages").glob("*.py"), ROOT / "streamlit_app.py"]:
        for name, _ in our_imports(page):
            if name.startswith("core.") or name == "core":  # `from core import api` names core.api too
                assert name == "core" or any(name == m or name.startswith(m + ".") for m in PAGE_MAY_IMPORT), \
                    (page.name, name)


def test_the_store_imports_nothing_from_the_engines():
    for name, path in core_modules().items():
        if name.startswith("core.store"):
            assert not [m for m, _ in our_imports(path) if m.startswith("core.providers")], name


def test_modules_of_ours_are_imported_at_the_top_and_form_no_cycle():
    modules = core_modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        late = [m for m, top in our_imports(path) if not top]
        assert late == [], f"{name} imports {late} inside a function"
        graph[name] = {m if m in modules else m.rsplit(".", 1)[0] for m, _ in our_imports(path)} & set(modules)
        graph[name].discard(name)

    visiting, done = set(), set()

    def visit(node, trail):
        if node in done:
            return
        assert node not in visiting, "import cycle: " + " -> ".join(trail + [node])
        visiting.add(node)
        for nxt in sorted(graph[node]):
            # importing core.x.y first runs core.x/__init__: not an edge of ours unless named
            visit(nxt, trail + [node])
        visiting.discard(node)
        done.add(node)

    for name in sorted(graph):
        visit(name, [])


def test_tests_and_benchmarks_share_testkit_and_import_not_each_other():
    def imported(folder):
        names = set()
        for path in (ROOT / folder).glob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and node.module:
                    names.add((path.name, node.module.split(".")[0]))
                elif isinstance(node, ast.Import):
                    names |= {(path.name, a.name.split(".")[0]) for a in node.names}
        return names

    assert not [pair for pair in imported("tests") if pair[1] == "bench"]
    assert not [pair for pair in imported("bench") if pair[1] == "tests"]
    assert not [pair for pair in imported("testkit") if pair[1] in ("tests", "bench")]
