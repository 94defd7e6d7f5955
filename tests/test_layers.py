"""The package's imports point down its layers, form no cycle, and hide none inside functions.

Layers, bottom to top: core (the pure decision core), stores (where shared state lives),
request_path (the runtime every request goes through), control_plane (deployments, the fleet,
the admin API and status page), fronts (the middleware, the proxy, the runnable app), safety
(lost access, diff, matrix, explain), impact (logs decided again under two plans),
verification (the property kit and `verify`), replay, cli. A module may import its own layer or
lower ones.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "gateway"
LAYERS = (
    "core",
    "stores",
    "request_path",
    "control_plane",
    "fronts",
    "safety",
    "impact",
    "verification",
    "replay",
    "cli",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int:
    """The layer of a gateway module. `gateway` itself is the public face of core and the fronts
    (it re-exports both, and `__version__`), so it sits with the fronts; `gateway.hot_path`, which
    only chooses how modules load, sits with core; `gateway.__main__` is above all."""
    if module == "gateway":
        return LAYERS.index("fronts")
    if module == "gateway.hot_path":
        return LAYERS.index("core")  # picks compiled or source modules; imports no gateway code
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else len(LAYERS)


def imports_of(path: Path) -> tuple[set[str], list[tuple[int, str]]]:
    """The gateway modules a file imports at module level, and (line, module) of any inside a function."""
    tree = ast.parse(path.read_text(), str(path))
    top: set[str] = set()
    nested: list[tuple[int, str]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            found: list[str] = []
            line = child.lineno if isinstance(child, ast.stmt) else 0
            if isinstance(child, ast.Import):
                found = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                found = [child.module]
                found += [
                    f"{child.module}.{alias.name}"
                    for alias in child.names
                    if is_module(f"{child.module}.{alias.name}")
                ]
            for name in found:
                if name == "gateway" or name.startswith("gateway."):
                    (nested.append((line, name)) if in_function else top.add(name))
            visit(child, in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef))

    visit(tree, False)
    return top, nested


def is_module(name: str) -> bool:
    base = PACKAGE.parent.joinpath(*name.split("."))
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}
GRAPH = {name: imports_of(path) for name, path in MODULES.items()}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_module_imports_only_its_own_layer_or_lower_ones(module: str) -> None:
    upward = sorted(name for name in GRAPH[module][0] if layer_of(name) > layer_of(module))
    assert not upward, (
        f"{module} ({LAYERS[layer_of(module)] if layer_of(module) < len(LAYERS) else 'top'}) imports {upward}"
    )


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_gateway_code_inside_a_function(module: str) -> None:
    assert GRAPH[module][1] == [], f"{module}: function-level imports {GRAPH[module][1]}"


def test_the_module_imports_form_no_cycle() -> None:
    edges = {name: {m for m in imports if m in MODULES and m != name} for name, (imports, _) in GRAPH.items()}
    done: set[str] = set()

    def walk(name: str, trail: list[str]) -> None:
        if name in trail:
            raise AssertionError("import cycle: " + " -> ".join([*trail[trail.index(name) :], name]))
        if name in done:
            return
        for target in sorted(edges[name]):
            walk(target, [*trail, name])
        done.add(name)

    for name in sorted(edges):
        walk(name, [])


def test_the_checks_would_see_an_upward_import_and_a_cycle(tmp_path: Path) -> None:
    """The graph above is read from real files: an upward import written into a file is found."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from gateway.cli.main import main\n\ndef f():\n    import gateway.request_path.runtime\n"
    )
    top, nested = imports_of(probe)
    assert "gateway.cli.main" in top and layer_of("gateway.cli.main") > layer_of("gateway.core.decision")
    assert nested == [(4, "gateway.request_path.runtime")]
