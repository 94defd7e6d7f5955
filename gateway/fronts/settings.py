"""`GatewaySettings`: how a gateway is configured, as one frozen value built once and passed down.

Each setting is declared once, below: its name, default, check, environment variable (what the
app factory and the workers of `gw467 serve` read), `gw467 serve` option and a one-sentence doc;
`SETTINGS_FIELDS` lists them for the generated reference. Tokens come from the environment or
keywords only, never argv, and are never shown (repr, error lines).
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import Field, dataclass, field, fields
from pathlib import Path
from typing import Any, TypedDict
from urllib.parse import urlsplit

from gateway.core.decision import DecisionTable
from gateway.core.plans import PlanSet
from gateway.request_path.metrics import GatewayMetrics
from gateway.request_path.runtime import LOCAL, STORE_FAILURE_POLICIES, Gateway
from gateway.request_path.slo import DEFAULT_MIN_REQUESTS, DEFAULT_SLO, SLI_NAMES
from gateway.stores.redis_store import PASSWORD_FILE_VARIABLE, PASSWORD_VARIABLE, redact
from gateway.stores.state_store import StateStore

STATUS_ACCESS = ("public", "token", "loopback")
RULE_HEADER_CHOICES = ("all", "refusals")
MEMORY = "memory"
# The settings only the runnable app uses (`gateway.fronts.app`): the middleware refuses them.
APP_SETTINGS = ("upstream", "trusted_proxies", "decision_log")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# The key, in a GatewaySettings field's metadata, of the setting's spellings, check and doc.
SPEC = "gw467.setting"


class SettingError(ValueError):
    """A setting's value that cannot be used; `str()` is one line naming the setting the way its
    source spells it (keyword, GW467_ variable or `gw467 serve` option), never a token's value."""


class UpstreamError(ValueError):
    """An upstream URL, or a trusted proxy, that cannot be used."""


def parse_upstream(url: str) -> tuple[str, str]:
    """(origin, base path) of an http(s) upstream URL; UpstreamError names what is wrong."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UpstreamError(f"{url!r} is not an http:// or https:// URL with a host")
    if parts.query or parts.fragment:
        raise UpstreamError(f"{url!r} has a query or fragment; give the origin and an optional base path")
    return f"{parts.scheme}://{parts.netloc}", parts.path.rstrip("/")


def parse_trusted_proxies(entries: Sequence[str]) -> tuple[Network, ...]:
    """The networks of `--trusted-proxy` entries (an address or a CIDR block); UpstreamError
    names an entry that is neither."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise UpstreamError(f"{entry!r} is not an IP address or network (10.0.0.0/8)") from None
    return tuple(networks)


@dataclass(frozen=True)
class Setting:
    """One setting as the reference documents it: keyword `name`, `default`, environment variable
    `env`, `gw467 serve` option (empty when it has none) and one-sentence `doc`, all plain text.

    `read` turns a variable's text into a value (ValueError: what is wrong), `check` says what is
    wrong with a value ("must be ...", or None), `write` gives the text `read` reads back (a path
    made absolute); `cli` holds the option's argparse keywords (None: the command declares the
    option itself, or there is none)."""

    name: str
    default: str
    env: str
    option: str
    doc: str
    read: Callable[[str], Any] = field(repr=False)
    check: Callable[[Any], str | None] = field(repr=False)
    write: Callable[[Any], str] = field(repr=False)
    cli: Mapping[str, Any] | None = field(repr=False)
    secret: bool = False

    def shown(self, value: object) -> str:
        """The value as an error line may show it: a token never is."""
        return "the value given" if self.secret else repr(value)


def _setting(
    default: Any,
    *,
    env: str,
    doc: str,
    option: str = "",
    check: Callable[[Any], str | None],
    read: Callable[[str], Any] = str,
    write: Callable[[Any], str] = str,
    cli: Mapping[str, Any] | None = None,
    secret: bool = False,
) -> Any:
    """A GatewaySettings field with its spellings, check and doc: one setting, declared once."""
    spec = {"env": env, "option": option, "doc": doc, "read": read, "check": check, "write": write}
    return field(default=default, repr=not secret, metadata={SPEC: {**spec, "cli": cli, "secret": secret}})


# Checks: what is wrong with a value, or None.


def _choice(names: Sequence[str]) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if value in names else f"must be one of {', '.join(names)}"

    return check


def _text_or_none(value: Any) -> str | None:
    return None if value is None or isinstance(value, str) else "must be a string or None"


def _path_or_none(value: Any) -> str | None:
    return None if value is None or isinstance(value, str | Path) else "must be a path or None"


def _flag(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be True or False"


def _slo(value: Any) -> str | None:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return None if number and 0 < value < 1 else "must be between 0 and 1 exclusive"


def _min_requests(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return "must be a whole number of at least 1"
    return None if value >= 1 else "must be at least 1"


def _upstream(value: Any) -> str | None:
    if value is None:
        return None
    try:
        parse_upstream(value)
    except (UpstreamError, TypeError):
        return "must be an http:// or https:// URL with a host, and no query or fragment"
    return None


def _trusted_proxies(value: Any) -> str | None:
    try:
        if isinstance(value, str) or not all(isinstance(entry, str) for entry in value):
            raise UpstreamError
        parse_trusted_proxies(value)
    except (UpstreamError, TypeError):
        return "must be IP addresses or networks (10.0.0.0/8)"
    return None


def _store(value: Any) -> str | None:
    if value == MEMORY:
        return None
    problem = "must be memory or a redis://HOST:PORT/DB URL"
    if not isinstance(value, str):
        return problem
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        return problem
    database = parts.path.strip("/")
    if parts.scheme not in ("redis", "rediss", "unix") or (database and not database.isdigit()):
        return problem
    return None


# Readers of an option's or a variable's text.


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError("must be a whole number of at least 1") from None


def _fraction(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError("must be between 0 and 1 exclusive") from None


def _on_unless_zero(text: str) -> bool:
    return text != "0"


def _listed(text: str) -> tuple[str, ...]:
    return tuple(entry for entry in text.split(",") if entry)


# argparse types: an option's text, refused with the problem argparse prints as one line.


def store_url(text: str) -> str:
    parts = urlsplit(text)
    if text != MEMORY and parts.password is not None:
        # A command line is readable by every user (ps): the password goes in a file.
        raise argparse.ArgumentTypeError(
            f"{redact(text)}: no password in the URL; put it in a file only you can read and set "
            f"{PASSWORD_FILE_VARIABLE} to its path (or set {PASSWORD_VARIABLE})"
        )
    if _store(text) is not None:
        raise argparse.ArgumentTypeError(f"{redact(text)!r} is not memory or a redis://HOST:PORT/DB URL")
    return text


def upstream_url(text: str) -> str:
    try:
        parse_upstream(text)
    except UpstreamError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def trusted_proxy(text: str) -> str:
    try:
        parse_trusted_proxies([text])
    except UpstreamError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def _or_empty(value: Any) -> str:
    return "" if value is None else str(value)


def _path_or_empty(value: Any) -> str:
    # Absolute: the variable is read in other processes, which may not share this one's directory.
    return "" if value is None else os.path.abspath(value)


def _flag_text(value: Any) -> str:
    return "1" if value else "0"


class MiddlewareKeywords(TypedDict, total=False):
    """`EntitlementMiddleware`'s setting keywords, so a type checker sees a misspelt one: the
    fields of GatewaySettings the middleware uses (a test keeps the two lists equal), where
    `store` may also be a `StateStore` and `metrics` a `GatewayMetrics` to share."""

    sli: str
    slo: float
    metrics: bool | GatewayMetrics
    min_requests: int
    admin_token: str | None
    status_access: str
    status_token: str | None
    check_token: str | None
    rule_header: str
    store: str | StateStore
    store_failure: str
    state_dir: str | Path | None


@dataclass(frozen=True)
class GatewaySettings:
    """Every serving setting of a gateway, checked when the value is built (SettingError: one line).

    Build it from keywords (`GatewaySettings(sli="5xx")`, or `embedded(...)` for the middleware's
    defaults), from the environment (`from_environment`) or from `gw467 serve`'s options
    (`from_arguments`); `to_environment` hands it to worker processes, which read it back unchanged.
    """

    plans: str | Path | None = _setting(  # noqa: RUF009 - `_setting` is dataclasses.field
        None,
        env="GW467_PLANS",
        option="--plans",
        check=_path_or_none,
        write=_path_or_empty,
        doc="The plan file to serve (a path, or a shipped plan file's name); gw467 serve requires it.",
    )
    sli: str = _setting(
        "first-party-denials",
        env="GW467_SLI",
        option="--sli",
        check=_choice(SLI_NAMES),
        cli={
            "choices": SLI_NAMES,
            "help": "what counts as a failed request for /_gw467/status and the alert",
        },
        doc="What counts as a failed request for /_gw467/status, the burn-rate alert and the canary: "
        "first-party-denials or 5xx.",
    )
    slo: float = _setting(
        DEFAULT_SLO,
        env="GW467_SLO",
        check=_slo,
        read=_fraction,
        doc="The availability objective the burn-rate alert and the status page measure against.",
    )
    metrics: bool = _setting(
        True,
        env="GW467_METRICS",
        option="--no-metrics",
        check=_flag,
        read=_on_unless_zero,
        write=_flag_text,
        cli={"action": "store_false", "help": "do not serve /_gw467/metrics"},
        doc="Serve Prometheus metrics at /_gw467/metrics (GW467_METRICS=0 or --no-metrics: off; "
        "off by default in EntitlementMiddleware).",
    )
    min_requests: int = _setting(
        DEFAULT_MIN_REQUESTS,
        env="GW467_MIN_REQUESTS",
        option="--min-requests",
        check=_min_requests,
        read=_whole_number,
        cli={
            "type": int,
            "metavar": "N",
            "help": "requests a client class needs in a window before the status page can call it "
            f"degraded or outage, or the alert page (default: {DEFAULT_MIN_REQUESTS})",
        },
        doc="Requests a client class needs in a window before the status page can call it degraded or "
        "outage, or the alert page.",
    )
    admin_token: str | None = _setting(
        None,
        env="GW467_ADMIN_TOKEN",
        check=_text_or_none,
        write=_or_empty,
        secret=True,
        doc="The bearer token of the admin API under /_gw467/admin/ (unset: the admin API is off).",
    )
    status_access: str = _setting(
        "public",
        env="GW467_STATUS_ACCESS",
        option="--status-access",
        check=_choice(STATUS_ACCESS),
        cli={
            "choices": STATUS_ACCESS,
            "help": "who may read /_gw467/status and /metrics: anyone, a bearer token "
            "(GW467_STATUS_TOKEN, else GW467_ADMIN_TOKEN) or loopback peers only (default: public)",
        },
        doc="Who may read /_gw467/status and /_gw467/metrics: public (anyone), token (a bearer token) "
        "or loopback (loopback peers only).",
    )
    status_token: str | None = _setting(
        None,
        env="GW467_STATUS_TOKEN",
        check=_text_or_none,
        write=_or_empty,
        secret=True,
        doc='The bearer token that status_access "token" asks for (unset: the admin token).',
    )
    check_token: str | None = _setting(
        None,
        env="GW467_CHECK_TOKEN",
        check=_text_or_none,
        write=_or_empty,
        secret=True,
        doc="The token that lets callers other than loopback ask /_gw467/check for decisions.",
    )
    rule_header: str = _setting(
        "all",
        env="GW467_RULE_HEADER",
        option="--rule-header",
        check=_choice(RULE_HEADER_CHOICES),
        cli={
            "choices": RULE_HEADER_CHOICES,
            "help": "send x-gw467-rule on every response, or on the gateway's refusals only (default: all)",
        },
        doc="Send x-gw467-rule on every response (all) or on the gateway's refusals only (refusals).",
    )
    upstream: str | None = _setting(
        None,
        env="GW467_UPSTREAM",
        option="--upstream",
        check=_upstream,
        write=_or_empty,
        cli={
            "metavar": "URL",
            "type": upstream_url,
            "help": "proxy allowed requests to this HTTP service (http://127.0.0.1:9000), not the demo "
            "upstream",
        },
        doc="An HTTP service to proxy allowed requests to (http://127.0.0.1:9000) instead of the demo "
        "upstream.",
    )
    trusted_proxies: tuple[str, ...] = _setting(
        (),
        env="GW467_TRUSTED_PROXIES",
        option="--trusted-proxy",
        check=_trusted_proxies,
        read=_listed,
        write=",".join,
        cli={
            "action": "append",
            "default": [],
            "metavar": "ADDRESS",
            "type": trusted_proxy,
            "help": "with --upstream: a load balancer (address or network, repeatable) whose "
            "X-Forwarded-* are kept; anyone else's X-Forwarded-*, Forwarded and X-Real-IP are replaced "
            "by the gateway's",
        },
        doc="Load balancers (addresses or networks; comma-separated in the variable) whose "
        "X-Forwarded-* the upstream proxy keeps.",
    )
    decision_log: bool = _setting(
        True,
        env="GW467_DECISION_LOG",
        option="--no-decision-log",
        check=_flag,
        read=_on_unless_zero,
        write=_flag_text,
        cli={
            "action": "store_false",
            "help": "do not write a JSON line per request to stderr (logger gw467.decisions)",
        },
        doc="Write a JSON line per request to stderr (logger gw467.decisions; 0 or --no-decision-log: off).",
    )
    store: str = _setting(
        MEMORY,
        env="GW467_STORE",
        option="--store",
        check=_store,
        cli={
            "metavar": "URL",
            "type": store_url,
            "help": "where quotas and the stage live: memory (this process, the default) or "
            "redis://HOST:PORT/DB (rediss:// for TLS), shared by every worker and instance (fleet "
            "mode; the admin API then works with --workers N); the password from "
            f"{PASSWORD_FILE_VARIABLE}, never the URL",
        },
        doc="Where quotas and the stage live: memory (this process) or redis://HOST:PORT/DB, shared by "
        "every worker and instance (fleet mode).",
    )
    store_failure: str = _setting(
        LOCAL,
        env="GW467_STORE_FAILURE",
        option="--store-failure",
        check=_choice(STORE_FAILURE_POLICIES),
        cli={
            "choices": STORE_FAILURE_POLICIES,
            "help": "while a shared store is down: count quotas in each worker (local, the default), "
            "admit uncounted (open) or refuse with 503 (closed); never 467 or 429 because of the outage",
        },
        doc="While a shared store is down: count quotas in each worker (local), admit uncounted (open) "
        "or refuse with 503 (closed).",
    )
    state_dir: str | Path | None = _setting(  # noqa: RUF009 - `_setting` is dataclasses.field
        None,
        env="GW467_STATE_DIR",
        option="--state-dir",
        check=_path_or_none,
        write=_path_or_empty,
        cli={
            "metavar": "DIR",
            "help": "where each fleet worker keeps its last good version, to start from when the store "
            "is down (default: $XDG_STATE_HOME/gw467 or ~/.local/state/gw467)",
        },
        doc="Where each fleet worker keeps its last good version, to start from when the store is down "
        "(unset: $XDG_STATE_HOME/gw467 or ~/.local/state/gw467).",
    )

    def __post_init__(self) -> None:
        for setting in SETTINGS_FIELDS:
            value = getattr(self, setting.name)
            problem = setting.check(value)
            if problem is not None:
                raise SettingError(f"{setting.name} {problem}, not {setting.shown(value)}")
        if not self.status_readable:
            raise SettingError('status_access="token" needs a status_token or an admin_token')

    @property
    def status_readable(self) -> bool:
        """False when /_gw467/status asks for a token and there is none to give."""
        return self.status_access != "token" or bool(self.status_token or self.admin_token)

    @property
    def shared_store(self) -> bool:
        """Whether quotas and the stage live in a store other processes share (fleet mode)."""
        return self.store != MEMORY

    @classmethod
    def embedded(cls, **options: Any) -> GatewaySettings:
        """Settings for a gateway in someone's own app (`EntitlementMiddleware`'s keywords): as served,
        but no /_gw467/metrics unless `metrics=True` (an app keeps its own metrics endpoint)."""
        return cls(**{"metrics": False, **options})

    @classmethod
    def from_environment(cls, environment: Mapping[str, str]) -> GatewaySettings:
        """The settings the GW467_ variables give (unset or empty: the default); SettingError names
        the variable at fault."""
        values: dict[str, Any] = {}
        for setting in SETTINGS_FIELDS:
            text = environment.get(setting.env, "")
            if not text:
                continue
            shown = setting.shown(text)
            try:
                value = setting.read(text)
            except ValueError as error:
                raise SettingError(f"{setting.env} {error}, not {shown}") from None
            problem = setting.check(value)
            if problem is not None:
                raise SettingError(f"{setting.env} {problem}, not {shown}")
            values[setting.name] = value
        if values.get("status_access") == "token":
            return _token_needed(values, f"{setting_named('status_access').env}=token", cls)
        return cls(**values)

    @classmethod
    def from_arguments(cls, arguments: argparse.Namespace, environment: Mapping[str, str]) -> GatewaySettings:
        """The settings `gw467 serve`'s options give (see `add_options`), with the tokens (and any
        setting that has no option) from `environment`; SettingError names the option at fault."""
        unset = cls.from_environment({name: text for name, text in environment.items() if name in _ENV_ONLY})
        values = {setting.name: getattr(unset, setting.name) for setting in SETTINGS_FIELDS}
        for setting in SETTINGS_FIELDS:
            if not setting.option or not hasattr(arguments, setting.name):
                continue
            value = getattr(arguments, setting.name)
            value = tuple(value) if isinstance(value, list) else value
            problem = setting.check(value)
            if problem is not None:
                raise SettingError(f"{setting.option} {value} {problem}")
            values[setting.name] = value
        if values["status_access"] == "token":
            return _token_needed(values, f"{setting_named('status_access').option} token", cls)
        return cls(**values)

    def to_environment(self) -> dict[str, str]:
        """Every setting as its GW467_ variable (empty: the default), paths made absolute: what
        worker processes read back, unchanged, with `from_environment`."""
        return {setting.env: setting.write(getattr(self, setting.name)) for setting in SETTINGS_FIELDS}

    def runtime(
        self,
        plans: str | Path | PlanSet | DecisionTable,
        clock: Callable[[], float] = time.time,
        *,
        store: StateStore | None = None,
        metrics: GatewayMetrics | None = None,
    ) -> Gateway:
        """The request path's runtime (`Gateway`) under these settings, for `plans` (a plan-file path,
        PlanSet or DecisionTable), quotas in `store` (None: this process's), sharing `metrics` if given."""
        return Gateway(
            plans,
            clock,
            sli=self.sli,
            slo=self.slo,
            min_requests=self.min_requests,
            metrics=metrics if metrics is not None else self.metrics,
            store=store,
            store_failure=self.store_failure,
        )


def _token_needed(values: dict[str, Any], spelled: str, cls: type[GatewaySettings]) -> GatewaySettings:
    """`status_access` token with a token to ask for, or the line naming the variables to set."""
    if not (values.get("status_token") or values.get("admin_token")):
        tokens = f"{setting_named('status_token').env} or {setting_named('admin_token').env}"
        raise SettingError(f"{spelled} needs {tokens} set in the environment")
    return cls(**values)


def setting_named(name: str) -> Setting:
    """The setting called `name` (its variable, option, default and doc)."""
    return next(setting for setting in SETTINGS_FIELDS if setting.name == name)


def _setting_of(declared: Field[Any]) -> Setting:
    spec = declared.metadata[SPEC]
    return Setting(name=declared.name, default=spec["write"](declared.default), **spec)


def add_options(parser: argparse.ArgumentParser) -> None:
    """Add the option of every setting that has one, with its default and help, to `parser`
    (`gw467 serve`); the command declares --plans itself (it locates shipped plan files)."""
    for setting in SETTINGS_FIELDS:
        if setting.cli is None:
            continue
        declared = _declared[setting.name]
        keywords = {"dest": setting.name, "default": declared.default, **setting.cli}
        parser.add_argument(setting.option, **keywords)


_declared = {declared.name: declared for declared in fields(GatewaySettings)}
SETTINGS_FIELDS: tuple[Setting, ...] = tuple(_setting_of(declared) for declared in _declared.values())
# The settings no option sets: the tokens (never argv) and what only a variable sets (the SLO).
_ENV_ONLY = frozenset(setting.env for setting in SETTINGS_FIELDS if not setting.option)
ADMIN_TOKEN_VARIABLE = setting_named("admin_token").env
