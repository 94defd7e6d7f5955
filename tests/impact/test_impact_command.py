"""`gw467 impact OLD NEW LOG...`: the acceptance cases (a log written by `gw467 serve`, an nginx log
and an ALB log, baseline to billing fails with the exact first-party count, to billing-fixed
passes), the JSON and web reports, and bad input as one line with exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from gateway.cli.main import main
from tests.conftest import BASELINE, BILLING, DEMO_KEYS, FIXED
from tests.impact import logs
from tests.impact.reference import outcomes
from tests.processes import gw467_serve

GATE_LINE = "first-party requests that would have been refused: "


def first_party_refused(new: Path) -> int:
    """How many of the test traffic's first-party requests BASELINE forwards and `new` refuses."""
    requests = [(client, method, target) for _, client, method, target in logs.traffic()]
    before, after = outcomes(BASELINE, requests, DEMO_KEYS), outcomes(new, requests, DEMO_KEYS)
    return sum(
        1
        for (client, _, _), old, now in zip(requests, before, after, strict=True)
        if client in logs.FIRST_PARTY and old == "allowed" and now != "allowed"
    )


def impact(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["impact", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def gate_figure(out: str) -> int:
    (line,) = [line for line in out.splitlines() if line.startswith(GATE_LINE)]
    return int(line.removeprefix(GATE_LINE))


@pytest.fixture(scope="module")
def served_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The decision log `gw467 serve --plans baseline` writes for the test traffic."""
    directory = tmp_path_factory.mktemp("served")
    with gw467_serve(BASELINE, directory) as server:
        with httpx.Client(base_url=server.base) as client:
            for _, name, method, target in logs.traffic():
                client.request(method, target, headers={"Authorization": f"Bearer {DEMO_KEYS[name]}"})
        text = server.wait_for_log(
            '"client":"legacy-reader","class":"third_party","method":"GET","path":"/2/nowhere"'
        )
    log = directory / "decisions.log"
    log.write_text("".join(line + "\n" for line in text.splitlines() if line.startswith("{")))
    return log


@pytest.mark.slow
def test_a_log_written_by_gw467_serve_fails_baseline_to_billing_with_the_exact_first_party_count(
    served_log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = first_party_refused(BILLING)
    assert expected == 14  # every first-party read of a link or a tweet: 7 clients, 2 each
    code, out, _ = impact(capsys, str(BASELINE), str(BILLING), str(served_log))
    assert code == 1 and gate_figure(out) == expected
    assert "SECRET" not in served_log.read_text() and "SECRET" not in out
    assert all(len(line) <= 100 for line in out.splitlines())


@pytest.mark.slow
def test_the_same_log_passes_baseline_to_billing_fixed(
    served_log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = impact(capsys, "2023-02-baseline", "2023-03-06-billing-fixed", str(served_log))
    assert code == 0 and gate_figure(out) == first_party_refused(FIXED) == 0


def test_an_nginx_log_gives_the_same_verdicts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "access.log"
    log.write_text("".join(logs.nginx_combined(*request) + "\n" for request in logs.traffic()))
    code, out, _ = impact(capsys, str(BASELINE), str(BILLING), str(log), "--format", "nginx")
    assert code == 1 and gate_figure(out) == first_party_refused(BILLING)
    code, out, _ = impact(capsys, str(BASELINE), str(FIXED), str(tmp_path / "*.log"), "--format", "nginx")
    assert code == 0 and gate_figure(out) == 0


def test_an_alb_log_gives_the_same_verdicts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mapping = tmp_path / "clients.toml"
    mapping.write_text(logs.MAPPING_TOML)
    log = tmp_path / "alb.log"
    log.write_text(
        "".join(logs.alb(m, logs.USER_AGENTS[c], method, t) + "\n" for m, c, method, t in logs.traffic())
    )
    options = ("--format", "alb", "--clients", str(mapping))
    code, out, _ = impact(capsys, str(BASELINE), str(BILLING), str(log), *options)
    assert code == 1 and gate_figure(out) == first_party_refused(BILLING)
    code, out, _ = impact(capsys, str(BASELINE), str(FIXED), str(log), *options)
    assert code == 0 and gate_figure(out) == 0


def test_json_and_html_reports_hold_the_changes_first_party_losses_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "access.log"
    log.write_text("".join(logs.nginx_combined(*request) + "\n" for request in logs.traffic()))
    page = tmp_path / "impact.html"
    code, out, _ = impact(
        capsys, str(BASELINE), str(BILLING), str(log), "--format", "nginx", "--json", "--html", str(page)
    )
    document = json.loads(out)
    assert code == 1 and document["first_party_refused"] == first_party_refused(BILLING)
    changes = document["changes"]
    first = [change["first_party"] and change["kind"] == "loss" for change in changes]
    assert first == sorted(first, reverse=True) and first[0]
    assert {change["example"] for change in changes} == {"GET /2/links/t3st", "GET /2/tweets/12"}
    assert document["lines"] == document["decided"] == len(logs.traffic())
    html = page.read_text()
    assert html.count("<svg") == len(document["timeline"]) and "SECRET" not in html


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nowhere.log"], "nowhere.log: no such log file"),
        (["EMPTY"], "no log file there"),
        (["LOG", "--format", "nginx", "--log-format", "$remote_addr $status"], "no $time_local"),
        (["LOG", "--format", "nginx", "--client-field", "http_authorization"], "credentials are never read"),
        (["LOG", "--engine", "oracle"], "unknown engine 'oracle'"),
        (["LOG", "--clients", "CLIENTS"], "match[0] needs exactly contains and client"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    log = tmp_path / "access.log"
    log.write_text("x\n")
    clients = tmp_path / "clients.toml"
    clients.write_text('[[match]]\ncontains = "x"\n')
    (tmp_path / "empty").mkdir()
    named = {"LOG": str(log), "CLIENTS": str(clients), "EMPTY": str(tmp_path / "empty")}
    resolved = [named.get(arg, arg) for arg in args]
    code, out, err = impact(capsys, str(BASELINE), str(BILLING), *resolved)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and message in err, err
