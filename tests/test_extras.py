"""Every extra is complete for the commands it serves, and a missing one is one line.

The import graph is read from the sources (module-level and function-level imports alike,
following `gateway` imports), starting at each extra's entry points; every third-party
package reached must be declared by the core or by that extra in pyproject.toml. A module
imported only behind `try: ... except ImportError` is optional: it must be in
`gateway.core.extras.EXTRA_OF_MODULE`, naming an extra that declares it. The second half runs
the commands with a module hidden, as an install without its extra would be, and with stdout
closed early, as `| head` does.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.core.extras import EXTRA_OF_MODULE
from tests.conftest import ROOT

PACKAGE = ROOT / "gateway"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
CLI_COMMANDS = sorted(
    f"gateway.cli.{path.stem}" for path in (PACKAGE / "cli").glob("*.py") if path.stem != "__init__"
)

# Each extra that serves something, the modules it serves, and the extras it is used with
# (`openapi` adds YAML specs to `gw467 catalogue`, and `spark` an engine to `gw467 impact`, so
# they come on top of `cli`).
ENTRY_POINTS: dict[str, tuple[list[str], tuple[str, ...]]] = {
    "": (["gateway", "gateway.fronts.middleware"], ()),
    "cli": (["gateway.cli.launch", "gateway.cli.main", *CLI_COMMANDS], ("cli",)),
    "testing": (["gateway.verification"], ("testing",)),
    "fleet": (["gateway.stores.redis_store"], ("fleet",)),
    "openapi": (["gateway.safety.catalogue"], ("cli", "openapi")),
    "impact": (["gateway.impact.duckdb_engine", "gateway.cli.impact"], ("cli", "impact")),
    "spark": (["gateway.impact.spark_engine"], ("cli", "spark")),
}


@dataclass(frozen=True)
class Imports:
    gateway: frozenset[str]  # gateway modules, any depth
    required: frozenset[str]  # third-party top-level modules imported unconditionally
    optional: frozenset[str]  # third-party top-level modules imported only behind except ImportError


def distribution_name(requirement: str) -> str:
    name = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert name, requirement
    return re.sub(r"[-_.]+", "-", name.group()).lower()


def declared(extras: tuple[str, ...], project: dict[str, object] = PYPROJECT["project"]) -> set[str]:
    """The distributions that the core and these extras bring (self-references expanded)."""
    optional = project["optional-dependencies"]
    assert isinstance(optional, dict)
    names: set[str] = set()
    pending = [*project["dependencies"]]  # type: ignore[misc]
    for extra in extras:
        pending += optional[extra]
    while pending:
        requirement = pending.pop()
        if requirement.startswith("gw467["):
            for extra in requirement[len("gw467[") : requirement.index("]")].split(","):
                pending += optional[extra]
        else:
            names.add(distribution_name(requirement))
    return names


def module_path(name: str) -> Path | None:
    base = PACKAGE.parent.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def guarded_by_import_error(handlers: list[ast.ExceptHandler]) -> bool:
    names = {ast.unparse(handler.type) for handler in handlers if handler.type is not None}
    return bool(names & {"ImportError", "ModuleNotFoundError"})


def imports_of(path: Path) -> Imports:
    gateway: set[str] = set()
    required: set[str] = set()
    optional: set[str] = set()

    def visit(node: ast.AST, guarded: bool) -> None:
        for child in ast.iter_child_nodes(node):
            names: list[str] = []
            if isinstance(child, ast.Import):
                names = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                names = [child.module, *(f"{child.module}.{alias.name}" for alias in child.names)]
            for name in names:
                top = name.split(".")[0]
                if top == "gateway":
                    if module_path(name):
                        gateway.add(name)
                elif top not in sys.stdlib_module_names and top != "__future__":
                    (optional if guarded else required).add(top)
            inner = guarded or (isinstance(child, ast.Try) and guarded_by_import_error(child.handlers))
            if isinstance(child, ast.Try):
                for part in child.body:
                    visit_statement(part, inner)
                for other in (*child.handlers, *child.orelse, *child.finalbody):
                    visit_statement(other, guarded)
            elif not isinstance(child, ast.Import | ast.ImportFrom):
                visit(child, guarded)

    def visit_statement(statement: ast.AST, guarded: bool) -> None:
        wrapper = ast.Module(body=[statement], type_ignores=[])  # type: ignore[list-item]
        visit(wrapper, guarded)

    visit(ast.parse(path.read_text(), str(path)), False)
    return Imports(frozenset(gateway), frozenset(required), frozenset(optional))


def reached_from(entries: list[str]) -> dict[str, Imports]:
    """Every gateway module the entries import, transitively, with its own imports."""
    seen: dict[str, Imports] = {}
    pending = list(entries)
    while pending:
        name = pending.pop()
        path = module_path(name)
        if name in seen or path is None:
            continue
        seen[name] = imports_of(path)
        parents = [".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)]
        pending += [*seen[name].gateway, *parents]
    return seen


def distributions_of(module: str) -> set[str]:
    found = importlib.metadata.packages_distributions().get(module, [])
    return {distribution_name(name) for name in found}


def undeclared(extra: str, project: dict[str, object] = PYPROJECT["project"]) -> list[str]:
    """`module imports package` for every package that extra's modules need and nobody declares."""
    entries, with_extras = ENTRY_POINTS[extra]
    allowed = declared(with_extras, project)
    problems = []
    for module, imports in sorted(reached_from(entries).items()):
        for package in sorted(imports.required):
            distributions = distributions_of(package)
            assert distributions, f"{module} imports {package}, which is not installed here"
            if not distributions & allowed:
                problems.append(f"{module} imports {package}")
        for package in sorted(imports.optional):
            bringer = EXTRA_OF_MODULE.get(package)
            if bringer is None or not distributions_of(package) & declared((bringer,), project):
                problems.append(f"{module} imports {package} optionally, but no extra is named for it")
    return problems


@pytest.mark.parametrize("extra", sorted(ENTRY_POINTS), ids=lambda extra: extra or "core")
def test_every_package_an_extras_modules_import_is_declared_by_the_core_or_that_extra(extra: str) -> None:
    assert undeclared(extra) == []


def test_the_check_sees_tomli_w_removed_from_every_extra() -> None:
    """The fault of 9920aaa: tomli-w was declared by `testing` only, and the CLI imports it."""
    project = dict(PYPROJECT["project"])
    project["optional-dependencies"] = {
        name: [requirement for requirement in requirements if not requirement.startswith("tomli-w")]
        for name, requirements in PYPROJECT["project"]["optional-dependencies"].items()
    }
    problems = undeclared("cli", project)
    assert "gateway.safety.catalogue imports tomli_w" in problems


def test_every_module_named_in_the_table_is_declared_by_its_extra() -> None:
    for module, extra in EXTRA_OF_MODULE.items():
        assert distributions_of(module) & declared((extra,)), f"{module}: not in gw467[{extra}]"


def test_the_core_alone_reaches_no_cli_package() -> None:
    core = reached_from(ENTRY_POINTS[""][0])
    assert not any(name.startswith(("gateway.cli", "gateway.replay")) for name in core)


def gw467(*args: str, hide: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """`gw467 ARGS` with the modules in `hide` made unimportable, as without their extra."""
    program = (
        "import sys\n"
        f"for name in {hide!r}:\n"
        "    sys.modules[name] = None\n"
        "from gateway.cli.launch import main\n"
        "sys.exit(main())\n"
    )
    return subprocess.run(
        [sys.executable, "-c", program, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_version_and_check_run_on_the_core_alone() -> None:
    cli_only = tuple(module for module, extra in EXTRA_OF_MODULE.items() if extra == "cli")
    version = gw467("--version", hide=cli_only)
    assert (version.returncode, version.stderr) == (0, "")
    assert version.stdout.startswith("gw467 ")
    check = gw467("check", "plans/2023-02-baseline.toml", hide=cli_only)
    assert (check.returncode, check.stderr) == (0, "")
    assert check.stdout.startswith("ok plans/2023-02-baseline.toml: version 2023-02-baseline;")


def test_a_command_whose_extra_is_missing_says_which_extra_in_one_line() -> None:
    done = gw467("replay", "2023-03-06-error-467", hide=("rich",))
    assert done.returncode == 2
    assert done.stderr == (
        "gw467: error: gw467 replay needs rich, which is not installed: pip install 'gw467[cli]'\n"
    )
    listed = gw467("--help", hide=("rich",))
    assert listed.returncode == 0
    assert re.search(r"^\s+replay\s+\(needs gw467\[cli\]\)$", listed.stdout, re.MULTILINE)


def test_serve_with_a_redis_store_but_no_fleet_extra_is_one_line() -> None:
    done = gw467(
        "serve",
        "--plans",
        "plans/2023-02-baseline.toml",
        "--store",
        "redis://127.0.0.1:1/0",
        "--port",
        "18467",
        hide=("redis",),
    )
    assert done.returncode == 2
    assert done.stderr == (
        "gw467: error: store redis://127.0.0.1:1/0 needs redis, which is not installed: "
        "pip install 'gw467[fleet]'\n"
    )


def test_a_yaml_spec_without_the_openapi_extra_is_one_line(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("openapi: 3.0.0\npaths: {}\n")
    done = gw467("catalogue", "--openapi", str(spec), hide=("yaml",))
    assert done.returncode == 2
    assert done.stderr == (
        f"gw467: error: reading the YAML spec {spec} needs yaml, which is not installed: "
        "pip install 'gw467[openapi]'\n"
    )


@pytest.mark.parametrize(
    "args",
    [
        ("traffic", "2023-03-06-error-467"),  # plain writes
        ("matrix", "plans/2023-02-baseline.toml"),  # rich
        ("diff", "plans/2023-02-baseline.toml", "plans/2023-03-06-billing.toml"),
        ("catalogue", "--app", "examples.fastapi_app.app:app"),  # print
    ],
    ids=lambda args: args[0],
)
def test_a_closed_stdout_ends_a_command_quietly(args: tuple[str, ...]) -> None:
    """`gw467 ... | head`: the reader is gone before the first write; no traceback, status 141."""
    program = "from gateway.cli.launch import main; import sys; sys.exit(main())"
    process = subprocess.Popen(
        [sys.executable, "-c", program, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    errors = process.stderr.read()
    assert (process.wait(timeout=60), errors) == (141, "")


def test_an_impact_engine_whose_extra_is_missing_is_one_line(tmp_path: Path) -> None:
    log = tmp_path / "decisions.log"
    log.write_text("")
    done = gw467(
        "impact", "2023-02-baseline", "2023-03-06-billing", str(log), "--engine", "spark", hide=("pyspark",)
    )
    assert done.returncode == 2
    assert done.stderr == (
        "gw467: error: the Spark engine needs pyspark, which is not installed: pip install 'gw467[spark]'\n"
    )
