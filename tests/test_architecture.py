"""The package's shape: a flow that only runs downhill, names that stay private, functions that fit a screen.

The import graph is read from the source (imports inside functions included),
so a cycle cannot hide behind a function-level import:

* no import cycle between drsim modules; a submodule importing its own
  package's ``__init__`` (``from . import x`` where ``x`` is not a module)
  counts, so an ``__init__`` that imports it back is a cycle;
* no private name (``_x``) imported from another module;
* an import inside a function is there for an optional dependency or for
  start-up time, and a comment on its line or just above it says which;
* no function longer than :data:`LONGEST` lines, except the kernel's event loop.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "drsim"
#: The longest a function may be, in lines (decorators excluded, docstring included).
LONGEST = 120
#: Functions allowed to be longer: the compiled kernel's event loop, kept whole for speed.
LONG_BY_DESIGN = {("drsim.engine.kernel", "simulate")}


@dataclass
class Module:
    name: str
    path: Path
    is_package: bool
    tree: ast.Module
    lines: list[str]
    imports: set[str] = field(default_factory=set)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def read_package() -> dict[str, Module]:
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text()
        name = module_name(path)
        modules[name] = Module(name, path, path.name == "__init__.py", ast.parse(text), text.splitlines())
    return modules


MODULES = read_package()


def target_of(module: Module, node: ast.ImportFrom) -> str | None:
    """The absolute module an ``import from`` statement reads from (None outside drsim)."""
    if node.level == 0:
        return node.module if (node.module or "").split(".")[0] == "drsim" else None
    base = module.name.split(".") if module.is_package else module.name.split(".")[:-1]
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imported_names(module: Module):
    """Every drsim import of ``module``: (statement, module imported from, name or None)."""
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "drsim":
                    yield node, alias.name, None
        elif isinstance(node, ast.ImportFrom):
            target = target_of(module, node)
            if target is None:
                continue
            for alias in node.names:
                yield node, target, alias.name


def dependencies(module: Module) -> set[str]:
    out = set()
    for _, target, name in imported_names(module):
        if name is not None and f"{target}.{name}" in MODULES:
            out.add(f"{target}.{name}")  # a submodule imported by name
        else:
            out.add(target)
    out.discard(module.name)
    return out & set(MODULES)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
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

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def functions(module: Module):
    for node in ast.walk(module.tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def test_the_reader_sees_the_whole_package():
    assert {"drsim", "drsim.plan", "drsim.engine.kernel", "drsim.cli"} <= set(MODULES)
    graph = {name: dependencies(m) for name, m in MODULES.items()}
    assert "drsim.model.units" in graph["drsim.model.distributions"]


def test_the_cycle_finder_finds_a_cycle_hidden_in_a_function():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_between_drsim_modules():
    graph = {name: dependencies(m) for name, m in MODULES.items()}
    assert cycles(graph) == []


def test_no_private_name_is_imported_from_another_module():
    private = [
        f"{name} imports {imported} from {target}"
        for name, m in MODULES.items()
        for _, target, imported in imported_names(m)
        if imported is not None and imported.startswith("_") and not imported.startswith("__")
    ]
    assert private == []


def imports_inside_functions(module: Module):
    for fn in functions(module):
        for node in ast.walk(fn):
            if isinstance(node, ast.Import | ast.ImportFrom):
                yield fn, node


def explained(module: Module, node: ast.stmt) -> bool:
    """A comment on the import's line, or on a line just above it (a block of imports shares one)."""
    line = node.lineno - 1
    if "#" in module.lines[node.end_lineno - 1] or "#" in module.lines[line]:
        return True
    above = line - 1
    while above >= 0 and module.lines[above].strip().startswith(("import ", "from ")):
        above -= 1
    return above >= 0 and module.lines[above].strip().startswith("#")


def test_every_import_inside_a_function_says_why_it_is_there():
    unexplained = [
        f"{m.path.relative_to(PACKAGE.parent)}:{node.lineno} in {fn.name}()"
        for m in MODULES.values()
        for fn, node in imports_inside_functions(m)
        if not explained(m, node)
    ]
    assert unexplained == []


def length(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    assert fn.end_lineno is not None
    return fn.end_lineno - fn.lineno + 1


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_function_is_longer_than_a_screen(name):
    module = MODULES[name]
    too_long = [
        f"{fn.name}() is {length(fn)} lines"
        for fn in functions(module)
        if length(fn) > LONGEST and (name, fn.name) not in LONG_BY_DESIGN
    ]
    assert too_long == []


def test_the_kernel_event_loop_is_the_only_exception_and_still_exists():
    kernel = MODULES["drsim.engine.kernel"]
    assert any(fn.name == "simulate" for fn in functions(kernel))


#: The layers, each importing only those before it.
LAYERS = ("model", "plan", "engine", "sweep", "analysis", "calibrate", "report", "history", "cli")
#: Where a layer reaches a later one, and why.
UPHILL_BY_DESIGN = {
    # a comparison, sensitivity or advice result draws itself (``result.plot()``), matplotlib imported on use
    ("drsim.analysis.compare", "drsim.report.plots"),
    ("drsim.analysis.sensitivity", "drsim.report.plots"),
    ("drsim.analysis.advise", "drsim.report.plots"),
}


def layer_of(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def test_each_layer_imports_only_the_layers_before_it():
    uphill = set()
    for name, module in MODULES.items():
        mine = layer_of(name)
        for dep in dependencies(module):
            theirs = layer_of(dep)
            if mine and theirs and LAYERS.index(theirs) > LAYERS.index(mine):
                uphill.add((name, dep))
    assert uphill == UPHILL_BY_DESIGN
