"""Plan test suites (`gw467 test`): the TOML format, loading it, and running it on a compiled table:
cases (clients x endpoints -> an outcome), exact sets ("exactly these clients reach links.*") and a
default; every outcome is `decide()` on the table, 429 the real quota ledger on a fixed clock.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.core.config import ConfigError, line_of, parse_toml, read_text, validate_model
from gateway.core.decision import CompiledClient, DecisionTable, decide
from gateway.core.planfile import HTTP_METHODS
from gateway.core.plans import FIRST_PARTY, THIRD_PARTY, Endpoint, Grant
from gateway.core.quota import QuotaLedger
from gateway.core.rules import quota_spent
from gateway.core.schemas import schema_of
from gateway.core.templates import example_path
from gateway.safety.coverage import CoverageRecorder

ALLOW = "allow"
OUTCOMES = (ALLOW, "400", "401", "404", "429", "467")
DENY: Final = "deny"
UNCHECKED: Final = "unchecked"
ALL_CLIENTS = "*"
# 2023-03-06 09:00 PST, the minute the billing plan shipped: the clock every 429 case runs on.
DEFAULT_NOW = datetime(2023, 3, 6, 17, 0, tzinfo=UTC)
# The value put in every path parameter when a case names an endpoint rather than a path.

_SELECTOR_KINDS = ("class", "client", "plan")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")
_PATTERN = re.compile(r"[A-Za-z0-9_.\-*?\[\]!]+")


_Fail = Callable[[Sequence[int | str], str], ConfigError]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


Expected = Literal["allow", "400", "401", "404", "429", "467", 400, 401, 404, 429, 467]


class CaseEntry(_Strict):
    name: str | None = None
    client: Annotated[str, Field(min_length=1)] | None = None
    key: str | None = None
    endpoint: Annotated[str, Field(min_length=1)]
    expect: Expected
    after: Annotated[int, Field(ge=0)] | None = None
    rule: Annotated[str, Field(min_length=1)] | None = None


class ExactlyEntry(_Strict):
    name: str | None = None
    endpoint: Annotated[str, Field(min_length=1)]
    clients: list[Annotated[str, Field(min_length=1)]]


class SuiteFile(_Strict):
    description: str = ""
    plan_files: list[Annotated[str, Field(min_length=1)]] = []
    default: Literal["deny", "unchecked"] = UNCHECKED
    now: datetime = DEFAULT_NOW
    cases: list[CaseEntry] = []
    exactly: list[ExactlyEntry] = []


@dataclass(frozen=True)
class Target:
    """What a case names: endpoint ids (an id or a glob), or one concrete request."""

    pattern: str | None = None
    method: str | None = None
    path: str | None = None

    def __str__(self) -> str:
        return self.pattern if self.pattern is not None else f"{self.method} {self.path}"


@dataclass(frozen=True)
class Case:
    """Each client the selector picks, on each endpoint of the target, decides as `expect`.

    With `key` the request authenticates with that bearer key ("" sends none); with a
    client selector authentication is skipped, as `gw467 explain --client` does. `expect`
    429 means `after` requests are allowed and the next one is refused by the quota.
    """

    where: str
    line: int | None
    name: str
    clients: str | None
    key: str | None
    target: Target
    expect: str
    after: int
    rule: str | None


@dataclass(frozen=True)
class Exactly:
    """The clients that reach each endpoint of `target` are exactly those of `clients`."""

    where: str
    line: int | None
    name: str
    target: Target
    clients: tuple[str, ...]


@dataclass(frozen=True)
class Suite:
    source: str
    description: str
    plan_files: tuple[str, ...]
    default: str
    now: float
    cases: tuple[Case, ...]
    exactly: tuple[Exactly, ...]

    def applies_to(self, plan_file: Path) -> bool:
        """Whether the suite names `plan_file` (globs on its name), or, naming none, shares its stem."""
        if self.plan_files:
            return any(fnmatchcase(plan_file.name, pattern) for pattern in self.plan_files)
        return Path(self.source).stem == plan_file.stem


@dataclass(frozen=True)
class Result:
    """One case, exact set or default of a suite, run on one plan file."""

    suite: str
    where: str
    line: int | None
    name: str
    checked: int
    failures: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass(frozen=True)
class SuiteRun:
    suite: Suite
    version: str
    results: tuple[Result, ...]

    @property
    def failed(self) -> tuple[Result, ...]:
        return tuple(result for result in self.results if not result.passed)


# Loading


def json_schema() -> dict[str, Any]:
    """The suite file's JSON Schema, as `SuiteFile` validates it."""
    return schema_of(
        SuiteFile,
        "gw467 plan test suite",
        "Expected decisions for a plan file, run by `gw467 test PLAN_FILE`.",
    )


def load_suite(path: str | Path) -> Suite:
    """Read and validate a test file; raise ConfigError (one line naming key and line) on a problem."""
    source = str(path)
    text = read_text(path)
    entry = validate_model(SuiteFile, parse_toml(text, source), source, text=text)

    def fail(location: Sequence[int | str], message: str) -> ConfigError:
        where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in location)
        return ConfigError(source, where.lstrip("."), message, line_of(text, location))

    if not entry.cases and not entry.exactly:
        raise ConfigError(source, "", "a test file needs at least one [[cases]] or [[exactly]] table")
    now = entry.now if entry.now.tzinfo is not None else entry.now.replace(tzinfo=UTC)
    cases = tuple(_case(index, item, fail, text) for index, item in enumerate(entry.cases))
    exactly = tuple(_exactly(index, item, fail, text) for index, item in enumerate(entry.exactly))
    return Suite(
        source, entry.description, tuple(entry.plan_files), entry.default, now.timestamp(), cases, exactly
    )


def _case(index: int, item: CaseEntry, fail: _Fail, text: str) -> Case:
    where = f"cases[{index}]"
    expect = str(item.expect)
    if (item.client is None) == (item.key is None):
        raise fail(["cases", index], "give exactly one of 'client' (a client or a selector) or 'key'")
    if item.client is not None:
        _check_selector(item.client, fail, ["cases", index, "client"])
        if expect == "401":
            raise fail(
                ["cases", index, "expect"],
                "a 'client' case skips authentication, so it cannot expect 401: give 'key' instead",
            )
    if expect == "429" and item.after is None:
        raise fail(["cases", index, "expect"], "expect = '429' needs after = N, the requests allowed first")
    if item.after is not None and expect != "429":
        raise fail(["cases", index, "after"], "'after' is only for expect = '429'")
    target = _target(item.endpoint, fail, ["cases", index, "endpoint"])
    who = item.client if item.client is not None else "key"
    name = item.name or f"{who} x {target} -> {expect}" + (
        f" after {item.after}" if item.after is not None else ""
    )
    return Case(
        where,
        line_of(text, ["cases", index]),
        name,
        item.client,
        item.key,
        target,
        expect,
        item.after or 0,
        item.rule,
    )


def _exactly(index: int, item: ExactlyEntry, fail: _Fail, text: str) -> Exactly:
    for number, selector in enumerate(item.clients):
        _check_selector(selector, fail, ["exactly", index, "clients", number])
    target = _target(item.endpoint, fail, ["exactly", index, "endpoint"])
    listed = ", ".join(item.clients) or "no client"
    name = item.name or f"exactly {listed} reach {target}"
    return Exactly(f"exactly[{index}]", line_of(text, ["exactly", index]), name, target, tuple(item.clients))


def _check_selector(selector: str, fail: _Fail, location: Sequence[int | str]) -> None:
    if selector in (FIRST_PARTY, THIRD_PARTY, ALL_CLIENTS):
        return
    kind, colon, value = selector.partition(":")
    if colon and kind in _SELECTOR_KINDS and _NAME.fullmatch(value):
        return
    if not colon and _NAME.fullmatch(selector):
        return
    raise fail(
        location,
        f"unknown selector {selector!r}: use a client id, 'first_party', 'third_party', '*', "
        "'class:<class>', 'client:<id>' or 'plan:<plan>'",
    )


def _target(text: str, fail: _Fail, location: Sequence[int | str]) -> Target:
    method, space, path = text.partition(" ")
    if space:
        path = path.strip()
        if method not in HTTP_METHODS:
            raise fail(
                location,
                f"{method!r} is not a method: write 'METHOD /path' with one of {', '.join(HTTP_METHODS)}",
            )
        if not path.startswith("/"):
            raise fail(location, f"request path {path!r} must start with '/'")
        return Target(method=method, path=path)
    if not _PATTERN.fullmatch(text):
        raise fail(location, f"{text!r} is neither an endpoint id or glob nor 'METHOD /path'")
    return Target(pattern=text)


# Finding suites


def suites_for(plan_file: str | Path, tests: Sequence[str] = ()) -> list[Suite]:
    """The suites to run on `plan_file`: those given (files, or directories of *.toml), else
    those in the plan file's sibling `tests/` directory that name it."""
    plan_path = Path(plan_file)
    if not tests:
        directory = plan_path.parent / "tests"
        found = [s for s in _directory(directory) if s.applies_to(plan_path)]
        if not found:
            raise ConfigError(
                str(plan_path), "", f"no test file in {directory}/ names it (set plan_files, or name TESTS)"
            )
        return found
    suites: list[Suite] = []
    for given in tests:
        if Path(given).is_dir():
            suites.extend(s for s in _directory(Path(given)) if s.applies_to(plan_path))
        else:
            suites.append(load_suite(given))
    if not suites:
        raise ConfigError(str(plan_path), "", f"no test file in {', '.join(tests)} names it")
    return suites


def _directory(directory: Path) -> Iterable[Suite]:
    return [load_suite(path) for path in sorted(directory.glob("*.toml"))]


# Running


@dataclass(frozen=True)
class _Request:
    method: str
    path: str
    endpoint: Endpoint | None  # the endpoint the case meant, when it named one

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


class _Runner:
    def __init__(self, table: DecisionTable, suite: Suite, coverage: CoverageRecorder) -> None:
        self.table = table
        self.suite = suite
        self.coverage = coverage
        self.listed: set[tuple[str, str]] = set()  # (client id, endpoint id) pairs a case or set checked

    def send(
        self, client: CompiledClient | None, key: str | None, request: _Request, ledger: QuotaLedger
    ) -> tuple[str, str, CompiledClient | None, Endpoint | None]:
        """One request as the gateway answers it: (outcome, rule text, client, endpoint matched)."""
        authorization = [f"Bearer {key}".encode()] if key else []
        decision = decide(self.table, request.method, request.path, authorization, client=client)
        self.coverage.record(decision)
        client = decision.client
        if client is not None and decision.endpoint is not None:
            self.listed.add((client.id, decision.endpoint.id))
        if decision.status is not None:
            return str(decision.status), str(decision.rule), client, decision.endpoint
        verdict = decision.verdict
        assert verdict is not None
        if verdict.quota is not None:
            assert client is not None  # only a client's plan carries a quota
            if not ledger.admit(client.id, verdict.quota)[0]:
                return "429", quota_spent(verdict.plan).text, client, decision.endpoint
        return ALLOW, str(decision.rule), client, decision.endpoint

    def ledger(self) -> QuotaLedger:
        now = self.suite.now
        return QuotaLedger(clock=lambda: now)

    def clients(self, selector: str) -> list[CompiledClient]:
        table = self.table
        if selector == ALL_CLIENTS:
            return list(table.clients)
        if selector == FIRST_PARTY:
            return [c for c in table.clients if c.first_party]
        if selector == THIRD_PARTY:
            return [c for c in table.clients if not c.first_party]
        kind, colon, value = selector.partition(":")
        if not colon:
            kind, value = "client", selector
        if kind == "class":
            return [c for c in table.clients if c.client_class == value]
        if kind == "plan":
            return [c for c in table.clients if c.plan == value]
        found = table.clients_by_id.get(value)
        return [found] if found is not None else []

    def requests(self, target: Target) -> list[_Request]:
        if target.pattern is None:
            assert target.method is not None and target.path is not None
            return [_Request(target.method, target.path, None)]
        grant = Grant((target.pattern,))
        return [_request_for(endpoint) for endpoint in self.table.endpoints if grant.covers(endpoint)]

    def run_case(self, case: Case) -> Result:
        failures: list[str] = []
        clients: list[CompiledClient | None] = [None]
        if case.clients is not None:
            clients = list(self.clients(case.clients))
            if not clients:
                failures.append(f"{case.clients!r} matches no client in {self.table.version}")
        requests = self.requests(case.target)
        if not requests:
            failures.append(f"{case.target} matches no endpoint in {self.table.version}")
        checked = 0
        for client in clients:
            who = client.id if client is not None else "the case's key"
            for request in requests:
                checked += 1
                problem = self._check(case, client, request)
                if problem:
                    failures.append(f"{who} {request}: {problem}")
        return self._result(case.where, case.line, case.name, checked, failures)

    def _check(self, case: Case, client: CompiledClient | None, request: _Request) -> str | None:
        ledger = self.ledger()
        for number in range(1, case.after + 1):
            outcome, rule, _, _ = self.send(client, case.key, request, ledger)
            if outcome != ALLOW:
                return f"expected {case.after} allowed before 429, request {number} got {outcome} ({rule})"
        outcome, rule, _, endpoint = self.send(client, case.key, request, ledger)
        if request.endpoint is not None and endpoint != request.endpoint:
            matched = endpoint.id if endpoint is not None else "no endpoint"
            return f"a path for {request.endpoint.id} matched {matched} ({rule}); write 'METHOD /path'"
        if outcome != case.expect:
            after = f" after {case.after}" if case.expect == "429" else ""
            return f"expected {case.expect}{after}, got {outcome} ({rule})"
        if case.rule is not None and rule != case.rule:
            return f"expected rule {case.rule}, got {rule}"
        return None

    def run_exactly(self, exactly: Exactly) -> Result:
        failures: list[str] = []
        expected: set[str] = set()
        for selector in exactly.clients:
            picked = self.clients(selector)
            if not picked:
                failures.append(f"{selector!r} matches no client in {self.table.version}")
            expected.update(client.id for client in picked)
        requests = self.requests(exactly.target)
        if not requests:
            failures.append(f"{exactly.target} matches no endpoint in {self.table.version}")
        checked = 0
        for request in requests:
            reached: set[str] = set()
            for client in self.table.clients:
                checked += 1
                outcome, _, _, _ = self.send(client, None, request, self.ledger())
                if outcome == ALLOW:
                    reached.add(client.id)
            label = request.endpoint.id if request.endpoint is not None else str(request)
            if reached - expected:
                added = ", ".join(_ordered(reached - expected, self.table))
                failures.append(f"{label}: also reached by {added} (not listed)")
            if expected - reached:
                lost = ", ".join(_ordered(expected - reached, self.table))
                failures.append(f"{label}: not reached by {lost} (listed)")
        return self._result(exactly.where, exactly.line, exactly.name, checked, failures)

    def run_default(self) -> Result:
        """With default = 'deny', every combination no case or set checked must be refused."""
        listed = set(self.listed)
        failures: list[str] = []
        checked = 0
        for client in self.table.clients:
            for endpoint in self.table.endpoints:
                if (client.id, endpoint.id) in listed:
                    continue
                checked += 1
                outcome, rule, _, _ = self.send(client, None, _request_for(endpoint), self.ledger())
                if outcome == ALLOW:
                    failures.append(f"{client.id} {endpoint.id}: allowed ({rule}) but listed in no case")
        return self._result("default", None, "unlisted combinations are denied", checked, failures)

    def _result(self, where: str, line: int | None, name: str, checked: int, failures: list[str]) -> Result:
        return Result(self.suite.source, where, line, name, checked, tuple(failures))


def _request_for(endpoint: Endpoint) -> _Request:
    path = example_path(endpoint.path)
    return _Request(endpoint.method, path, endpoint)


def _ordered(ids: set[str], table: DecisionTable) -> list[str]:
    return [client.id for client in table.clients if client.id in ids]


def run_suite(table: DecisionTable, suite: Suite, coverage: CoverageRecorder) -> SuiteRun:
    """Run every case and exact set of `suite` on `table`, then its default; record coverage."""
    runner = _Runner(table, suite, coverage)
    results = [runner.run_case(case) for case in suite.cases]
    results.extend(runner.run_exactly(exactly) for exactly in suite.exactly)
    if suite.default == DENY:
        results.append(runner.run_default())
    return SuiteRun(suite, table.version, tuple(results))
