"""Log lines in each format the impact readers take, written here from the formats' documentation
(nginx `combined`, AWS ALB access log fields, Envoy's JSON access log), not from the readers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

from tests.conftest import DEMO_KEYS

FIRST_PARTY = ("web", "ios", "android", "tweetdeck", "tco", "media", "login")
# The user agent each client sends, for the logs that name clients only by it (ALB).
USER_AGENTS = {client: f"Mozilla/5.0 (compatible; gw467-{client}-app/9.1)" for client in DEMO_KEYS}
MAPPING_TOML = "field = 'user_agent'\n" + "".join(
    f'[[match]]\ncontains = "gw467-{client}-app/"\nclient = "{client}"\n' for client in DEMO_KEYS
)
# (method, target) each client sends: two entitled reads, a public-free path and a route that
# does not exist; query strings hold credentials that must never be read back.
TARGETS = (
    ("GET", "/2/links/t3st?access_token=SECRET-TOKEN"),
    ("GET", "/2/tweets/12"),
    ("GET", "/2/nowhere?oauth_signature=SECRET-SIG"),
)


def traffic() -> list[tuple[datetime, str, str, str]]:
    """(time, client, method, target): every client sends every target, over two minutes."""
    start = datetime(2023, 3, 6, 16, 59, 30, tzinfo=UTC)
    pairs = [(client, method, target) for client in DEMO_KEYS for method, target in TARGETS]
    return [(start + timedelta(seconds=2 * index), *pair) for index, pair in enumerate(pairs)]


def nginx_combined(moment: datetime, user: str, method: str, target: str, agent: str = "curl/8.0") -> str:
    local = moment.astimezone(timezone(timedelta(hours=-8)))
    stamp = local.strftime("%d/%b/%Y:%H:%M:%S %z")
    return f'203.0.113.7 - {user} [{stamp}] "{method} {target} HTTP/1.1" 200 612 "-" "{agent}"'


def alb(moment: datetime, agent: str, method: str, target: str) -> str:
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.123456Z")
    return (
        f"https {stamp} app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 "
        f'0.086 0.048 0.037 200 200 0 57 "{method} https://api.example.com:443{target} HTTP/1.1" '
        f'"{agent}" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 '
        "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "
        '"Root=1-58337364-23a8c76965a2ef7629b185e3" "api.example.com" "-" 0 '
        f'{stamp} "forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_1234'
    )


def envoy(moment: datetime, client: str, method: str, target: str) -> str:
    return json.dumps(
        {
            "start_time": moment.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "method": method,
            "path": target,
            "protocol": "HTTP/1.1",
            "response_code": 200,
            "x_client_id": client,
            "authorization": "Bearer SECRET-BEARER",
        }
    )
