# gw467: every target creates .venv on first use and installs into it what that target
# needs, so each works on a fresh machine with only Python 3.11 and pip. The replays and
# the demo need the `cli` extra only; tests, linters, benchmarks and load tests the `test`
# extra (which includes `cli`). One stamp file per extra, so either order works.

PYTHON     ?= python3
VENV       := .venv
BIN        := $(VENV)/bin
CLI_STAMP  := $(VENV)/.installed-cli
TEST_STAMP := $(VENV)/.installed-test
DOCS_STAMP := $(VENV)/.installed-docs
COMPILED_STAMP := $(VENV)/.compiled-hot-path
PIP        := $(BIN)/python -m pip install --quiet --disable-pip-version-check
PLAN   ?= plans/2023-03-06-billing.toml
PORT   ?= 8467

.PHONY: docs system-packages soak help venv replay replay-fixed replay-2019 compare demo test test-compiled compile pure test-deep lint bench serve status-demo clean loadtest loadtest-distributed mutation loadtest-bench

help:
	@echo "make replay     replay 2023-03-06 minute by minute; writes out/replay.json, .png and .html"
	@echo "make replay-fixed, make replay-2019   the same hour with the fix; the 2019 contrast"
	@echo "make compare    the same hour once per safety layer, and on a fleet with rollout rings; out/compare.json, .png and .html"
	@echo "make demo       client x surface matrix: baseline, billing (the outage), fixed"
	@echo "make test       the whole test suite on every core, slowest 15 shown (Hypothesis 'ci' profile when CI=true)"
	@echo "make compile    the hot-path modules compiled by mypyc, beside their sources (make pure removes them)"
	@echo "make test-compiled   the same suite against the compiled modules (CI runs make test and this)"
	@echo "make test-deep  property tests under the deep Hypothesis profile, and the tests marked deep"
	@echo "make lint       ruff and mypy --strict"
	@echo "make docs       the documentation site from docs/ (MkDocs, --strict, offline) into out/site; its"
	@echo "                references generated from the parsers, the models and docs/measured/bench.json"
	@echo "make bench      in-process and decision-cost benchmarks, ratios from one run, of the compiled"
	@echo "                hot path (make compile) and, in process, of the Python sources beside it"
	@echo "                plus server CPU under uvicorn at 1, 2 and 4 workers, compile time and memory,"
	@echo "                targets (pass/miss); out/bench.json. BENCH_ARGS=\"--xlarge-keys 10000000\" adds 10M keys"
	@echo "make loadtest-bench   Locust at a fixed load below saturation against the bare app and the gateway"
	@echo "                under uvicorn; p50/p99 latency, achieved req/s, CPU of server and load generator"
	@echo "make serve      gw467 serve --plans \$$PLAN on 127.0.0.1:\$$PORT (8467)"
	@echo "make status-demo  gw467 serve on a free loopback port, traffic from every class, the status"
	@echo "                page's summary printed, the server stopped (SLI=5xx for the 5xx-only page)"
	@echo "make loadtest   Locust for 60 s against gw467 serve on 127.0.0.1: starts on the baseline and pushes"
	@echo "                the billing plan at half-time; fails (exit 1) when a first-party request gets 467"
	@echo "                PLAN=FILE: start on FILE, push nothing (PLAN=plans/2023-03-06-billing-fixed.toml passes)"
	@echo "                PUSH=FILE: push FILE at half-time (PUSH= pushes nothing); LOADTEST_ARGS=\"--users 60\" ..."
	@echo "make loadtest-distributed   the same with Locust's master and 2 workers on this machine"
	@echo "make soak       10 minutes of mixed traffic against 2 workers on a Redis store, with pushes, rollbacks"
	@echo "                and one Redis restart: 5xx, lost requests, RSS per worker, quota overshoot; out/soak.json"
	@echo "                SOAK_ARGS=\"--minutes 2 --rate 100\" for a shorter run"
	@echo "make mutation   mutmut over the decision core (paths, routing, credentials, compiler, decision,"
	@echo "                middleware) with the fast tests; prints killed / total per file and every survivor"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "gw467 needs Python >= 3.11; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)

$(CLI_STAMP): pyproject.toml | $(BIN)/python
	$(PIP) -e '.[cli]'
	@touch $@

# Debian packages, one list, each as PROGRAM:PACKAGE: the program whose absence means the package
# must be installed. `make test` installs TEST_PACKAGES when one is missing (chromium for the
# browser tests, which Playwright drives at /usr/bin/chromium and never downloads; nginx for the
# reverse-proxy and auth_request tests; redis-server for the fleet tests; openssl for the
# certificates of the Redis TLS test; java for the Spark impact engine; unshare, to build the docs
# site with no network); `make compile` installs COMPILE_PACKAGES. tests/test_system_packages.py
# fails when a test, benchmark or example looks up a program that is not in these lists.
TEST_PACKAGES    := chromium:chromium nginx:nginx redis-server:redis-server openssl:openssl java:openjdk-17-jre-headless unshare:util-linux
COMPILE_PACKAGES := gcc:gcc
# apt-get update, then install, only when a program is missing (/usr/sbin is not on every PATH).
define install_packages
@missing=""; for entry in $(1); do \
	PATH="$$PATH:/usr/sbin:/sbin" command -v "$${entry%%:*}" >/dev/null || missing="$$missing $${entry#*:}"; \
done; \
if [ -n "$$missing" ]; then \
	echo "gw467: installing Debian packages:$$missing"; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
fi
endef

system-packages:
	$(call install_packages,$(TEST_PACKAGES))

# `test` includes `cli` and `docs`, so installing it brings their stamps up to date too.
$(TEST_STAMP): pyproject.toml | $(BIN)/python
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(PIP) -e '.[test]'
	@touch $@ $(CLI_STAMP) $(DOCS_STAMP)

# `docs` includes `cli`: the hook imports every command's parser for the CLI reference.
$(DOCS_STAMP): pyproject.toml | $(BIN)/python
	$(PIP) -e '.[docs]'
	@touch $@ $(CLI_STAMP)

venv: $(TEST_STAMP) system-packages

# The commands write into out/; gw467 creates no directory it was not asked to.
out:
	mkdir -p out

replay: $(CLI_STAMP) | out
	$(BIN)/gw467 replay scenarios/2023-03-06-error-467.toml --json out/replay.json --chart out/replay.png --html out/replay.html

replay-fixed: $(CLI_STAMP) | out
	$(BIN)/gw467 replay scenarios/2023-03-06-fixed.toml --json out/replay-fixed.json --chart out/replay-fixed.png --html out/replay-fixed.html

replay-2019: $(CLI_STAMP) | out
	$(BIN)/gw467 replay scenarios/2019-07-11-technically-wrong.toml --json out/replay-2019.json --chart out/replay-2019.png --html out/replay-2019.html

compare: $(CLI_STAMP) | out
	$(BIN)/gw467 replay scenarios/2023-03-06-ringed-rollout.toml --compare --json out/compare.json --chart out/compare.png --html out/compare.html

demo: $(CLI_STAMP)
	$(BIN)/gw467 matrix plans/2023-02-baseline.toml
	$(BIN)/gw467 matrix plans/2023-03-06-billing.toml --against plans/2023-02-baseline.toml
	$(BIN)/gw467 matrix plans/2023-03-06-billing-fixed.toml --against plans/2023-02-baseline.toml

# -n auto: one pytest-xdist worker per core (at most 4); --dist loadfile keeps each module on
# one worker, so a module's fixtures are built once: the browser, the wheel, and the one full
# replay each tests/replay/test_shipped_*.py shares. --durations: the slowest tests, so a
# regression in test time shows in every run.
# make test runs the Python sources, even where `make compile` built the hot path;
# make test-compiled runs the same suite against the compiled modules (CI runs both).
PYTEST_ARGS ?= -n auto --maxprocesses 4 --dist loadfile --durations=15

test: $(TEST_STAMP) system-packages
	GW467_PURE_PYTHON=1 $(BIN)/python -m pytest $(PYTEST_ARGS)

test-compiled: $(COMPILED_STAMP) system-packages
	GW467_EXPECT_COMPILED=1 $(BIN)/python -m pytest $(PYTEST_ARGS)

# The hot-path modules (gateway/hot_path.py HOT_PATH) compiled by mypyc, in place beside
# their sources, which stay the fallback; rebuilt when a source changes. make pure removes them.
compile: $(COMPILED_STAMP)

# Exit 0 when this Python's headers (Python.h) are there, as mypyc's C output needs them.
PYTHON_HEADERS := import pathlib, sys, sysconfig; sys.exit(not pathlib.Path(sysconfig.get_paths()["include"], "Python.h").exists())
export PYTHON_HEADERS

$(COMPILED_STAMP): $(TEST_STAMP) setup.py $(wildcard gateway/core/*.py gateway/request_path/*.py gateway/fronts/middleware.py gateway/hot_path.py)
	$(call install_packages,$(COMPILE_PACKAGES))
	@$(BIN)/python -c "$$PYTHON_HEADERS" || { apt-get update -qq && apt-get install -y -qq python3-dev; }
	@$(BIN)/python -c "$$PYTHON_HEADERS" || { echo "gw467: make compile needs the Python headers of $$($(BIN)/python -c 'import sys; print(sys.executable)')"; exit 2; }
	GW467_COMPILE=1 $(BIN)/python setup.py --quiet build_ext --inplace --build-temp build/mypyc
	@touch $@

pure:
	rm -f gateway/*/*.so gateway/compiled-sources.json $(COMPILED_STAMP)

# -m "": the `deep` tests too, which pyproject's addopts deselect from make test; then the
# tests marked deep elsewhere (the full-hour replay of the ringed-rollout scenario).
test-deep: $(TEST_STAMP) system-packages
	HYPOTHESIS_PROFILE=deep $(BIN)/python -m pytest -m "" --durations=15 tests/properties
	$(BIN)/python -m pytest -m deep --durations=15 tests --ignore=tests/properties

lint: $(TEST_STAMP)
	$(BIN)/ruff check gateway tests benchmarks loadtests examples docs/hooks
	$(BIN)/ruff format --check gateway tests benchmarks loadtests examples docs/hooks
	$(BIN)/mypy gateway benchmarks loadtests examples tests docs/hooks

# The site: seconds to build. --strict fails on a broken link, a page missing from the nav, or
# a warning of the hook; NO_MKDOCS_2_WARNING silences Material's banner about its successor.
docs: $(DOCS_STAMP) | out
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs build --strict --site-dir out/site

# BENCH_ARGS="--xlarge-keys 10000000": the 10,000,000-key table too (4 to 6 minutes, 8 GiB).
BENCH_ARGS ?=

# The compiled hot path is what is timed (and the Python sources beside it, the pure group).
bench: $(COMPILED_STAMP) system-packages
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

serve: $(CLI_STAMP)
	$(BIN)/gw467 serve --plans $(PLAN) --port $(PORT)

# The status page in one bounded command: serve on a free loopback port, send traffic, print, stop.
SLI ?= first-party-denials
status-demo: $(CLI_STAMP)
	$(BIN)/python examples/status_demo.py --plans $(PLAN) --sli $(SLI)

clean: pure
	rm -rf $(VENV) out build .pytest_cache .hypothesis .ruff_cache .mypy_cache *.egg-info

# Load tests (loadtests/). Without PLAN on the command line, `make loadtest` replays the
# incident live: start on the baseline, push the billing plan at half-time. PLAN=FILE
# starts on FILE and pushes nothing unless PUSH=FILE is given too. (PLAN's default above
# is serve's, so only a PLAN the user gave counts.)
ifeq ($(origin PLAN),file)
LOADTEST_PLAN := plans/2023-02-baseline.toml
PUSH ?= plans/2023-03-06-billing.toml
else
LOADTEST_PLAN := $(PLAN)
PUSH ?=
endif
LOADTEST_ARGS ?=
LOADTEST_RUN = $(strip $(BIN)/python -m loadtests.run --plan $(LOADTEST_PLAN) $(if $(PUSH),--push $(PUSH),--no-push) $(LOADTEST_ARGS))

loadtest: $(TEST_STAMP)
	$(LOADTEST_RUN)

loadtest-distributed: $(TEST_STAMP)
	$(LOADTEST_RUN) --workers 2

# Mutation testing of the decision core; not part of CI (a full run takes 40 minutes or more on 2 cores:
# each middleware mutant runs the property suites).
# The files and the test selection are in pyproject.toml [tool.mutmut]. mutants/ is removed
# first: mutmut keeps the verdicts of unchanged functions from run to run and does not retest
# a survivor when only the tests changed, so a reused mutants/ can report a stale score.
# PYTHONHASHSEED fixes the order in which each mutant's tests run (mutmut holds them in a
# set), so whether a mutant is killed or times out is the same from run to run.
MUTMUT := $(BIN)/mutmut

define MUTATION_SCORE
import json, pathlib
from mutmut.mutation.diff_apply import get_diff_for_mutant
from mutmut.stats import status_by_exit_code
kinds = ("killed", "survived", "timeout", "other")
rows, survivors = {}, []
for meta in sorted(pathlib.Path("mutants").rglob("*.py.meta")):
    source = str(meta.relative_to("mutants")).removesuffix(".meta")
    counts = dict.fromkeys(kinds, 0)
    for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
        status = status_by_exit_code[code]
        counts[status if status in kinds else "other"] += 1
        if status != "killed":
            diff = get_diff_for_mutant(name, path=source).splitlines()[2:]
            changed = [line.rstrip() for line in diff if line[:1] in "+-" and line[1:].strip()]
            survivors += [f"{status}: {name}", *(f"      {line}" for line in changed)]
    rows[source] = counts
rows["all"] = {kind: sum(row[kind] for row in rows.values()) for kind in kinds}
print(f"\n{'file':26}" + "".join(f"{kind:>10}" for kind in (*kinds, "total")))
for name, row in rows.items():
    print(f"{name:26}" + "".join(f"{row[kind]:10}" for kind in kinds) + f"{sum(row.values()):10}")
print("\n".join(["", "not killed (mutmut show NAME for the whole function):", *survivors] if survivors else []))
killed, total = rows["all"]["killed"], sum(rows["all"].values())
print(f"\nmutation score: {killed}/{total} killed ({100 * killed / max(total, 1):.1f}%)")
endef
export MUTATION_SCORE

# Mutants are made of the sources, so the run loads sources only (GW467_PURE_PYTHON=1).
mutation: $(TEST_STAMP)
	@test -x $(MUTMUT) || $(BIN)/python -m pip install --quiet --disable-pip-version-check 'mutmut>=3.8,<4'
	rm -rf mutants
	GW467_PURE_PYTHON=1 CI=true PYTHONHASHSEED=0 $(MUTMUT) run
	@$(BIN)/python -c "$$MUTATION_SCORE"

# Locust against the bare app and the gateway under uvicorn (benchmarks/loadtest_bench.py):
# figures as information, written to out/loadtest-bench.json. LOADTEST_BENCH_ARGS="--users 40" ...
LOADTEST_BENCH_ARGS ?=

loadtest-bench: $(TEST_STAMP)
	$(BIN)/python -m benchmarks.loadtest_bench $(LOADTEST_BENCH_ARGS)

# A bounded soak of a 2-worker fleet on a real redis-server (benchmarks/soak.py); it starts and
# stops its own redis-server and gateway on loopback ports. SOAK_ARGS="--minutes 2" ...
SOAK_ARGS ?=

soak: $(TEST_STAMP) system-packages | out
	$(BIN)/python -m benchmarks.soak $(SOAK_ARGS)
