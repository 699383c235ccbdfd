"""The engine never imports Qt: checked statically (every import statement) and at run time."""
import ast
import subprocess
import sys
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "gan_studio" / "engine"
FORBIDDEN = ("PySide6", "PyQt5", "PyQt6", "PySide2", "pyqtgraph", "pyvistaqt", "qtpy", "superqt", "shiboken6")


def _imports(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def test_engine_sources_import_no_qt():
    files = sorted(ENGINE.rglob("*.py"))
    assert len(files) > 10
    bad = [(f.relative_to(ENGINE), m) for f in files for m in _imports(f) if m.split(".")[0] in FORBIDDEN]
    assert not bad, f"Qt imported in the engine: {bad}"


def test_importing_every_engine_module_loads_no_qt():
    modules = [".".join(("gan_studio", "engine", *f.relative_to(ENGINE).with_suffix("").parts))
               for f in sorted(ENGINE.rglob("*.py"))]
    modules = [m[:-len(".__init__")] if m.endswith(".__init__") else m for m in modules]
    code = ("import importlib, sys\n"
            f"for m in {modules!r}: importlib.import_module(m)\n"
            f"bad = [m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}]\n"
            "print(len(sys.modules)); assert not bad, bad\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
