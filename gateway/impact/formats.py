"""Log formats: how a line of each kind of access log yields a time, a method, a target and a client field.

A format is data, not code: a regular expression (or JSON keys) that both engines apply in
their own SQL, so DuckDB and Spark read a line the same way. Only the groups a decision needs
are captured; every other field of a line (cookies, Authorization headers, bodies) is matched
without being kept. Regular expressions use the subset RE2 (DuckDB) and Java (Spark) share.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

GW467, NGINX, ALB, ENVOY = "gw467", "nginx", "alb", "envoy"
FORMATS = (GW467, NGINX, ALB, ENVOY)
NGINX_COMBINED = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
    '"$http_referer" "$http_user_agent"'
)
MAX_LOG_FORMAT = 2000
# Fields that hold credentials: never a client field, never captured.
SECRET_FIELDS = frozenset(
    {"http_authorization", "authorization", "http_cookie", "cookie", "args", "query_string"}
)
# Time styles: ISO 8601 (gw467, ALB, Envoy, nginx $time_iso8601) or nginx's $time_local.
ISO, COMMON_LOG = "iso", "clf"
_REGEX_SPECIAL = set(".^$*+?()[]{}|\\")
_VARIABLE = re.compile(r"\$(\w+)|\$\{(\w+)\}")


class FormatError(ValueError):
    """A log format that cannot be used; the message is one line."""


@dataclass(frozen=True)
class LineFormat:
    """How to read one kind of line.

    Either `pattern` (a regular expression with numbered groups: `groups` names which group
    holds "time", "request" (METHOD TARGET PROTOCOL), "method", "target" and the client field) or,
    when `json` is true, the JSON keys of those fields in `keys`. `time_style` says how the time
    is written.
    """

    name: str
    client_field: str
    time_style: str = ISO
    json: bool = False
    pattern: str = ""
    groups: tuple[tuple[str, int], ...] = ()
    keys: tuple[tuple[str, str], ...] = ()

    def group(self, role: str) -> int | None:
        return dict(self.groups).get(role)

    def key(self, role: str) -> str | None:
        return dict(self.keys).get(role)


def check_client_field(field: str) -> str:
    if field.lower().replace("-", "_") in SECRET_FIELDS or not re.fullmatch(r"[A-Za-z0-9_.:-]{1,100}", field):
        raise FormatError(f"client field {field!r} cannot be used (credentials are never read)")
    return field


def gw467_format(client_field: str = "client") -> LineFormat:
    keys = (("time", "time"), ("method", "method"), ("target", "path"), ("client", client_field))
    return LineFormat(GW467, check_client_field(client_field), json=True, keys=keys)


def envoy_format(client_field: str = "user_agent") -> LineFormat:
    """Envoy's JSON access log (`json_format`) with its default keys: start_time, method, path."""
    keys = (("time", "start_time"), ("method", "method"), ("target", "path"), ("client", client_field))
    return LineFormat(ENVOY, check_client_field(client_field), json=True, keys=keys)


def alb_format(client_field: str = "user_agent") -> LineFormat:
    """AWS Application Load Balancer access logs: 12 space-separated fields, then the quoted
    request line and the quoted user agent; nothing after them is captured."""
    if client_field != "user_agent":
        raise FormatError(f"ALB logs name a client only by user_agent, not {client_field!r}")
    plain = r"\S+ "
    pattern = r"^\S+ (\S+) " + plain * 10 + r'"([^"]*)" "([^"]*)"'
    groups = (("time", 1), ("request", 2), ("client", 3))
    return LineFormat(ALB, client_field, pattern=pattern, groups=groups)


def nginx_format(log_format: str = NGINX_COMBINED, client_field: str = "remote_user") -> LineFormat:
    """An nginx `log_format` string (the default: `combined`) as a line pattern.

    Each variable matches up to the literal character that follows it (or the end of the
    line). The request comes from `$request`, or from `$request_method` with `$request_uri` or
    `$uri`; the time from `$time_local` or `$time_iso8601`.
    """
    if len(log_format) > MAX_LOG_FORMAT:
        raise FormatError(f"log_format is longer than {MAX_LOG_FORMAT} characters")
    client_field = check_client_field(client_field)
    parts: list[str] = ["^"]
    groups: dict[str, int] = {}
    time_style = ISO
    position = 0
    matches = list(_VARIABLE.finditer(log_format))
    if not matches:
        raise FormatError("log_format names no $variable")
    for index, match in enumerate(matches):
        parts.append(_literal(log_format[position : match.start()]))
        name = match.group(1) or match.group(2)
        following = matches[index + 1].start() if index + 1 < len(matches) else len(log_format)
        after = log_format[match.end() : following]
        stop = after[0] if after else ""
        body = f"[^{_in_class(stop)}]*" if stop else ".*"
        role = _role(name, client_field)
        if role is not None and role in groups:
            raise FormatError(f"log_format names ${name} twice")
        if role is None:
            parts.append(f"(?:{body})")
        else:
            groups[role] = len(groups) + 1
            parts.append(f"({body})")
            if name == "time_local":
                time_style = COMMON_LOG
        position = match.end()
    parts.append(_literal(log_format[position:]))
    if "time" not in groups:
        raise FormatError("log_format has no $time_local or $time_iso8601")
    if "request" not in groups and not {"method", "target"} <= groups.keys():
        raise FormatError("log_format has no $request (nor $request_method with $request_uri)")
    if "client" not in groups:
        raise FormatError(f"log_format has no ${client_field}, the client field")
    return LineFormat(NGINX, client_field, time_style, pattern="".join(parts), groups=tuple(groups.items()))


def _role(name: str, client_field: str) -> str | None:
    if name == client_field:
        return "client"
    if name in ("time_local", "time_iso8601"):
        return "time"
    return {"request": "request", "request_method": "method", "request_uri": "target", "uri": "target"}.get(
        name
    )


def _literal(text: str) -> str:
    return "".join("\\" + char if char in _REGEX_SPECIAL else char for char in text)


def _in_class(char: str) -> str:
    return "\\" + char if char in "]\\^-[" else char


def line_format(name: str, client_field: str | None = None, log_format: str | None = None) -> LineFormat:
    """The format called `name`, reading the client from `client_field` (the format's default when None)."""
    if log_format is not None and name != NGINX:
        raise FormatError("--log-format is for nginx logs")
    if name == GW467:
        return gw467_format(client_field or "client")
    if name == ENVOY:
        return envoy_format(client_field or "user_agent")
    if name == ALB:
        return alb_format(client_field or "user_agent")
    if name == NGINX:
        return nginx_format(log_format or NGINX_COMBINED, client_field or "remote_user")
    raise FormatError(f"unknown log format {name!r} (one of {', '.join(FORMATS)})")
