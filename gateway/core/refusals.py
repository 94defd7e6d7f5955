"""What the gateway's own refusals say: Twitter's error bodies by default, or a plan file's `[responses]`.

Each refusal kind (467 not entitled, 401 unauthenticated, 404 no route, 429 quota)
has a body: Twitter's envelope `{"errors":[{"message":...,"code":...}]}` built
from `message` and `code`, or a `body` given verbatim. Statuses never change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Refusal:
    """The body of one kind of refusal: Twitter's envelope of `message` and `code`, or `body` as is."""

    message: str = ""
    code: int | None = None
    body: str | None = None

    def encoded(self) -> bytes:
        if self.body is not None:
            return self.body.encode("utf-8")
        error: dict[str, object] = {"message": self.message}
        if self.code is not None:
            error["code"] = self.code
        return json.dumps({"errors": [error]}, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    def header_value(self) -> bytes:
        """The body as one line of ASCII JSON, as `/_gw467/check` sends it in a header."""
        return one_line(self.encoded())


@lru_cache(maxsize=64)  # a plan file has four refusal bodies; the check sends them per request
def one_line(body: bytes) -> bytes:
    """A JSON body as a header value: minified, non-ASCII escaped, so no CR, LF or other control
    byte reaches the header (nginx refuses the whole auth_request answer with one)."""
    return json.dumps(json.loads(body), separators=(",", ":")).encode("ascii")


# The 467 message is the one client libraries recorded on 6 March 2023; 32, 34 and 88 are Twitter's codes.
NOT_ENTITLED = Refusal(
    "Your current API plan does not include access to this endpoint, please see "
    "https://developer.twitter.com/en/docs/twitter-api for more information",
    467,
)
UNAUTHENTICATED = Refusal("Could not authenticate you", 32)
NO_ROUTE = Refusal("Sorry, that page does not exist", 34)
QUOTA = Refusal("Rate limit exceeded", 88)
REFUSAL_KINDS = ("not_entitled", "unauthenticated", "no_route", "quota")
# A refusal body, as one line of JSON, fits a header beside the others in nginx's default 4 KiB
# buffer for an auth_request answer.
MAX_REFUSAL_BYTES = 2048


@dataclass(frozen=True)
class Responses:
    """The refusal bodies of a plan file, one per kind; Twitter's unless the file says otherwise."""

    not_entitled: Refusal = NOT_ENTITLED
    unauthenticated: Refusal = UNAUTHENTICATED
    no_route: Refusal = NO_ROUTE
    quota: Refusal = QUOTA


TWITTER_RESPONSES = Responses()
