"""Plan test suites (`gw467 test`): the shipped suites, outcomes from decide(), exact sets, the default,
coverage, JUnit XML, and one-line errors for malformed test files."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gateway.cli.errors import EXIT_BELOW_THRESHOLD, EXIT_FAILED, EXIT_OK, EXIT_USAGE
from gateway.cli.main import main
from gateway.core.decision import DecisionTable
from gateway.safety.coverage import CoverageRecorder
from gateway.safety.suite import load_suite, run_suite, suites_for
from tests.conftest import BASELINE, BILLING, FIXED, PLANS


def _run(table: DecisionTable, tmp_path: Path, text: str) -> list[tuple[str, tuple[str, ...]]]:
    path = tmp_path / "suite.toml"
    path.write_text(text)
    run = run_suite(table, load_suite(path), CoverageRecorder(table))
    return [(result.name, result.failures) for result in run.results]


def test_billing_fails_and_names_the_first_failing_first_party_case(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["test", str(BILLING)]) == EXIT_FAILED
    out = capsys.readouterr().out
    assert f"first failing case: {PLANS}/tests/first-party.toml:6 cases[0] 't.co resolves short links'" in out
    assert "tco GET /2/links/gw467-probe: expected allow, got 467 (plan:free/deny)" in out
    assert "coverage of 2023-03-06-billing:" in out


@pytest.mark.parametrize("plan_file", [BASELINE, FIXED])
def test_baseline_and_fixed_pass_their_suites_and_print_coverage(
    plan_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["test", str(plan_file)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "FAIL" not in out and " 0 failed" in out
    assert f"coverage of {plan_file.stem}: exemptions 1/1" in out


def test_the_fixed_file_is_wholly_covered_and_the_baseline_is_not(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", str(FIXED), "--coverage-threshold", "100"]) == EXIT_OK
    assert "72/72 (100.0%)" in capsys.readouterr().out
    assert main(["test", str(BASELINE), "--coverage-threshold", "90"]) == EXIT_BELOW_THRESHOLD
    out = capsys.readouterr().out
    assert "is below --coverage-threshold 90%" in out
    assert "grants not exercised: essential: users.*" in " ".join(out.split())


def test_the_default_directory_runs_the_suites_that_name_the_plan_file() -> None:
    assert [Path(s.source).name for s in suites_for(BILLING)] == ["first-party.toml", "paid-plans.toml"]
    assert [Path(s.source).name for s in suites_for(BASELINE)] == [
        "2023-02-baseline.toml",
        "first-party.toml",
    ]


def test_junit_xml_has_a_testcase_per_case_and_the_failures(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    assert main(["test", str(BILLING), "--junit", str(junit)]) == EXIT_FAILED
    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [
        f"{PLANS}/tests/first-party.toml",
        f"{PLANS}/tests/paid-plans.toml",
    ]
    first = suites[0].findall("testcase")[0]
    assert first.get("name") == "cases[0] t.co resolves short links" and first.get("line") == "6"
    failure = first.find("failure")
    assert failure is not None
    assert failure.get("message") == "tco GET /2/links/gw467-probe: expected allow, got 467 (plan:free/deny)"
    total = sum(len(s.findall("testcase")) for s in suites)
    failed = sum(len(s.findall("testcase/failure")) for s in suites)
    assert (root.get("tests"), root.get("failures")) == (str(total), str(failed))
    assert failed == 20


def test_a_selector_case_fails_for_each_client_that_decides_otherwise(
    billing_table: DecisionTable, tmp_path: Path
) -> None:
    results = _run(
        billing_table,
        tmp_path,
        '[[cases]]\nname = "n"\nclient = "first_party"\nendpoint = "links.resolve"\nexpect = "allow"\n',
    )
    failures = results[0][1]
    assert len(failures) == 7
    assert failures[0] == "web GET /2/links/gw467-probe: expected allow, got 467 (plan:free/deny)"


def test_an_exact_set_fails_on_an_added_client_and_on_a_lost_one(
    fixed_table: DecisionTable, tmp_path: Path
) -> None:
    ((_, failures),) = _run(
        fixed_table,
        tmp_path,
        '[[exactly]]\nendpoint = "stream.filter"\nclients = ["first_party", "plan:basic"]\n',
    )
    assert failures == (
        "stream.filter: also reached by newsdesk-pro (not listed)",
        "stream.filter: not reached by pollster-analytics (listed)",
    )


def test_default_deny_fails_on_an_allowed_combination_no_case_lists(
    fixed_table: DecisionTable, tmp_path: Path
) -> None:
    text = 'default = "deny"\n[[cases]]\nclient = "*"\nendpoint = "tweets.create"\nexpect = "allow"\n'
    results = dict(_run(fixed_table, tmp_path, text))
    unlisted = results["unlisted combinations are denied"]
    assert "web links.resolve: allowed (exempt:first_party) but listed in no case" in unlisted
    assert not any("tweets.create" in failure for failure in unlisted)


def test_429_after_n_runs_the_real_quota_ledger_on_a_fixed_clock(
    fixed_table: DecisionTable, tmp_path: Path
) -> None:
    case = '[[cases]]\nclient = "sunrise-bot"\nendpoint = "POST /2/tweets"\nexpect = "429"\nafter = {}\n'
    assert _run(fixed_table, tmp_path, case.format(50))[0][1] == ()
    (failure,) = _run(fixed_table, tmp_path, case.format(49))[0][1]
    assert (
        failure
        == "sunrise-bot POST /2/tweets: expected 429 after 49, got allow (plan:free/grant:tweets.create)"
    )
    (failure,) = _run(fixed_table, tmp_path, case.format(51))[0][1]
    assert failure.endswith("request 51 got 429 (quota:free)")


def test_a_wrong_expected_rule_fails_and_names_the_real_one(
    fixed_table: DecisionTable, tmp_path: Path
) -> None:
    text = (
        '[[cases]]\nclient = "tco"\nendpoint = "links.resolve"\nexpect = "allow"\nrule = "exempt:class:tco"\n'
    )
    assert _run(fixed_table, tmp_path, text)[0][1] == (
        "tco GET /2/links/gw467-probe: expected rule exempt:class:tco, got exempt:first_party",
    )


def test_a_client_or_endpoint_the_plan_file_lacks_fails_the_case(
    fixed_table: DecisionTable, tmp_path: Path
) -> None:
    text = '[[cases]]\nclient = "gone"\nendpoint = "nothing.*"\nexpect = "allow"\n'
    assert _run(fixed_table, tmp_path, text)[0][1] == (
        "'gone' matches no client in 2023-03-06-billing-fixed",
        "nothing.* matches no endpoint in 2023-03-06-billing-fixed",
    )


_VALID_CASE = '[[cases]]\nclient = "tco"\nendpoint = "links.resolve"\nexpect = "allow"\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "suite.toml: file is empty"),
        ('[[cases]]\nclient = "tco"\nclient = "web"\n', "suite.toml:3:"),
        (
            'description = "only words"\n',
            "suite.toml: a test file needs at least one [[cases]] or [[exactly]] table",
        ),
        (
            _VALID_CASE.replace('"allow"', '"allowed"'),
            "suite.toml:4: cases[0].expect: Input should be 'allow'",
        ),
        (_VALID_CASE + "colour = 1\n", "suite.toml:5: cases[0].colour: unknown key"),
        ('default = "allow"\n' + _VALID_CASE, "suite.toml:1: default: Input should be 'deny' or 'unchecked'"),
        (
            _VALID_CASE.replace('endpoint = "links.resolve"\n', ""),
            "suite.toml:1: cases[0].endpoint: missing required key",
        ),
        (
            _VALID_CASE.replace('"tco"', '"klass:web"'),
            "suite.toml:2: cases[0].client: unknown selector 'klass:web': use a client id",
        ),
        (
            _VALID_CASE.replace('"links.resolve"', '"get /2/links/abc"'),
            "suite.toml:3: cases[0].endpoint: 'get' is not a method: write 'METHOD /path'",
        ),
        (
            _VALID_CASE.replace('"links.resolve"', '"GET 2/links"'),
            "suite.toml:3: cases[0].endpoint: request path '2/links' must start with '/'",
        ),
        (
            _VALID_CASE.replace('"links.resolve"', '"links resolve!"'),
            "suite.toml:3: cases[0].endpoint: 'links' is not a method",
        ),
        (
            _VALID_CASE.replace('"allow"', '"429"'),
            "suite.toml:4: cases[0].expect: expect = '429' needs after = N",
        ),
        (_VALID_CASE + "after = 3\n", "suite.toml:5: cases[0].after: 'after' is only for expect = '429'"),
        (
            _VALID_CASE.replace('"allow"', '"401"'),
            "suite.toml:4: cases[0].expect: a 'client' case skips authentication, so it cannot expect 401",
        ),
        (_VALID_CASE + 'key = "k"\n', "suite.toml:1: cases[0]: give exactly one of 'client'"),
        (
            '[[exactly]]\nendpoint = "links.*"\nclients = ["first_party", "plan:"]\n',
            "suite.toml:3: exactly[0].clients[1]: unknown selector 'plan:'",
        ),
        (
            '[[exactly]]\nendpoint = "links.*"\nclients = "first_party"\n',
            "suite.toml:3: exactly[0].clients: Input should be a valid list",
        ),
    ],
)
def test_malformed_test_files_are_one_line_naming_file_key_and_line_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    suite = tmp_path / "suite.toml"
    suite.write_text(text)
    assert main(["test", str(FIXED), str(suite)]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"gw467: error: {tmp_path}/")
    assert message in err, err


def test_a_plan_file_no_test_file_names_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan_file = tmp_path / "mine.toml"
    plan_file.write_text(FIXED.read_text())
    assert main(["test", str(plan_file)]) == EXIT_USAGE
    assert f"no test file in {tmp_path}/tests/ names it" in capsys.readouterr().err


def test_a_suite_without_plan_files_runs_on_the_plan_file_of_its_name(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "mine.toml").write_text(_VALID_CASE)
    (tmp_path / "tests" / "other.toml").write_text(_VALID_CASE)
    assert [Path(s.source).name for s in suites_for(tmp_path / "mine.toml")] == ["mine.toml"]
