"""The house is easy to walk: pages stay thin, imports point down the layers, the store knows no engines, the
façade loads nothing of the worker's side, and no module of ours needs another to be imported late to avoid a cycle."""

import ast
import subprocess
from pathlib import Path

from core.models import WORK_STAGES, Stage
from core.pipeline.registry import STEPS
from tests.conftest import PYTHON, ROOT

PAGE_MAY_IMPORT = {"core.api", "core.models", "core.formatting", "core.library.insights"}
#: core/ from the top down; a module may import from its own layer (without a cycle) and from those below.
LAYERS = [
    ("faces and old import paths", ["core.cli", "core.__main__", "core.server", "core.workers", "core.webhooks",
                                    "core.retention"]),
    ("the façade", ["core.api"]),
    ("jobs and the pipeline", ["core.jobs", "core.pipeline"]),
    ("the library", ["core.library"]),
    ("sources, engines and the store", ["core.sources", "core.providers", "core.store"]),
    ("the ground floor", ["core.config", "core.models", "core.formatting", "core.processes", "core.text",
                          "core.vectors", "core.pricing", "core.access"]),
]


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
                assert name in ("core", "core.library") or any(name == m or name.startswith(m + ".")
                                                               for m in PAGE_MAY_IMPORT), (page.name, name)


def test_pages_show_only_what_they_ask_streamlit_to_show():
    """Streamlit's magic is off (.streamlit/config.toml: rewriting a page's syntax tree each time Streamlit compiles
    it again, after its last visitor left, took 28 ms of the Video page's first run), so a value alone on a line
    would show nothing: pages have none."""
    assert "magicEnabled = false" in (ROOT / ".streamlit" / "config.toml").read_text()
    for page in [*(ROOT / "pages").glob("*.py"), ROOT / "streamlit_app.py"]:
        for node in ast.walk(ast.parse(page.read_text())):
            body = getattr(node, "body", None)  # a block of statements (a lambda's body is one expression)
            for number, statement in enumerate(body if isinstance(body, list) else []):
                if not isinstance(statement, ast.Expr) or isinstance(statement.value, (ast.Call, ast.Await)):
                    continue
                docstring = number == 0 and isinstance(statement.value, ast.Constant) and isinstance(
                    statement.value.value, str)
                assert docstring, f"{page.name}:{statement.lineno} shows nothing: {ast.unparse(statement)}"


def layer_of(module: str) -> int:
    found = [number for number, (_, prefixes) in enumerate(LAYERS)
             for prefix in prefixes if module == prefix or module.startswith(prefix + ".")]
    assert found, f"{module} is in no layer: add it to LAYERS in {Path(__file__).name}"
    return found[0]


def test_every_module_sits_in_a_layer_and_imports_only_its_own_or_lower_ones():
    for name, path in core_modules().items():
        if name == "core":
            continue
        mine = layer_of(name)
        for imported, _ in our_imports(path):
            if imported.startswith("core."):
                assert layer_of(imported) >= mine, f"{name} ({LAYERS[mine][0]}) imports {imported}"


def test_importing_the_facade_loads_no_engine_and_no_part_of_the_pipeline():
    loaded = subprocess.run(
        [PYTHON, "-c", "import sys, core.api; print(' '.join(sorted(sys.modules)))"], cwd=ROOT, capture_output=True,
        text=True, check=True).stdout.split()
    heavy = ("faster_whisper", "ctranslate2", "openvino", "onnxruntime", "core.pipeline", "core.providers.transcribe")
    assert not [module for module in heavy if module in loaded]


def test_the_stages_are_the_steps_in_order():
    assert [step.status for step in STEPS] == list(WORK_STAGES)
    assert list(Stage) == [Stage.PENDING, *WORK_STAGES, Stage.COMPLETED, Stage.FAILED]
    assert all(stage.label and stage.icon for stage in Stage)


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
