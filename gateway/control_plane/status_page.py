"""The status document as a web page: one tile per client class, the alert, the config in force,
and beside them what a 5xx-only status page would say of the same traffic.

Pure: `render_status_page` takes the document `/_gw467/status` serves as JSON and returns
the HTML bytes; `wants_html` reads the Accept header. The page works without JavaScript
(and then refreshes by meta refresh); with it, an inline script re-fetches the page and
swaps its content, so there is one rendering, here. Nothing is loaded from elsewhere.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from html import escape
from typing import Any

HTML_CONTENT_TYPE = b"text/html; charset=utf-8"
REFRESH_SECONDS = 5

# Each state with a mark and a text colour on a tinted background, above 7:1 contrast
# (WCAG AAA) in every pair, so that no state is told by colour alone or hard to read.
STATE_STYLE: dict[str, tuple[str, str, str]] = {
    "operational": ("✓", "#0b4f1c", "#e3f3e6"),
    "degraded": ("!", "#5c3d00", "#fff1cc"),
    "outage": ("✕", "#7d0b0b", "#fde4e4"),
    "recovering": ("↺", "#0b3d6b", "#e3eefa"),
    "not enough traffic": ("?", "#303030", "#ececec"),
    "no traffic": ("&ndash;", "#303030", "#ececec"),
}

_CSS = """
body{font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;
color:#111;background:#fafafa}
header,main{max-width:68rem;margin:0 auto;padding:0 1rem}
h1{font-size:1.5rem;margin:1rem 0 .25rem}h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
.pages{display:grid;grid-template-columns:repeat(auto-fit,minmax(18rem,1fr));gap:1rem}
.banner{border:2px solid currentColor;border-radius:.5rem;padding:.75rem 1rem}
.banner strong{font-size:1.3rem;display:block}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(14rem,1fr));gap:.75rem;
list-style:none;padding:0;margin:0}
.tile{background:#fff;border:1px solid #767676;border-radius:.5rem;padding:.6rem .8rem}
.tile h3{margin:0;font-size:1rem}
.state{display:inline-block;border-radius:.3rem;padding:0 .4rem;font-weight:700;margin:.25rem 0}
.beside{font-size:.9rem;border-top:1px dashed #767676;margin-top:.4rem;padding-top:.3rem}
table{border-collapse:collapse}th,td{text-align:left;padding:.15rem .8rem .15rem 0}
.note{color:#333;font-size:.9rem}
"""

_SCRIPT = """
(function () {
  var every = REFRESH_MS;
  function refresh() {
    fetch(location.href, {headers: {Accept: "text/html"}, cache: "no-store"})
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (text) {
        var fresh = new DOMParser().parseFromString(text, "text/html").getElementById("status");
        if (fresh) { document.getElementById("status").replaceWith(fresh); }
        document.getElementById("refreshed").textContent =
          "refreshed " + new Date().toLocaleTimeString();
      })
      .catch(function (error) {
        document.getElementById("refreshed").textContent = "could not refresh: " + error.message;
      });
  }
  setInterval(refresh, every);
})();
""".replace("REFRESH_MS", str(REFRESH_SECONDS * 1000))


def wants_html(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """Whether the request's Accept headers rank text/html above application/json.

    No Accept header, `*/*`, or a tie answer JSON: machines keep the default.
    """
    accept = ",".join(value.decode("latin-1") for name, value in headers if name.lower() == b"accept")
    return _quality(accept, "text/html") > _quality(accept, "application/json")


def _quality(accept: str, media_type: str) -> float:
    """The q-value `accept` gives `media_type`, from its most specific matching range (RFC 9110)."""
    kind = media_type.split("/")[0]
    best: tuple[int, float] = (-1, 0.0)
    for item in accept.split(","):
        media_range, *parameters = (part.strip() for part in item.split(";"))
        media_range = media_range.lower()
        if media_range == media_type:
            specificity = 2
        elif media_range == f"{kind}/*":
            specificity = 1
        elif media_range == "*/*":
            specificity = 0
        else:
            continue
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if (specificity, quality) > best:
            best = (specificity, quality)
    return best[1]


def render_status_page(document: Mapping[str, Any]) -> bytes:
    """The status document as a self-contained HTML page (UTF-8)."""
    five_xx = document["5xx_view"]
    sli = str(document["sli"])
    overall = str(document["status"])
    main = "".join(
        [
            '<main id="status">',
            '<h2 id="pages-heading">Right now</h2>',
            '<div class="pages" aria-labelledby="pages-heading">',
            _banner(f"This page, on the {sli} SLI", overall, "configured"),
            _banner("A 5xx-only status page would say", str(five_xx["status"]), "5xx"),
            "</div>",
            _recovering(document.get("recovering")),
            _tiles(document["classes"], five_xx["classes"], sli, int(document["min_requests"])),
            '<div class="pages">',
            _alert(document["alert"], float(document["slo"])),
            _deployment(document.get("deployment"), document.get("store")),
            "</div>",
            "</main>",
        ]
    )
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>gw467 status: {escape(_headline(overall))}</title>"
        f'<noscript><meta http-equiv="refresh" content="{REFRESH_SECONDS}"></noscript>'
        f"<style>{_CSS}</style></head><body>"
        "<header><h1>gw467 gateway status</h1>"
        f'<p class="note">Per client class, over the last 5 minutes; a class is judged once it has sent '
        f'<span id="min-requests">{int(document["min_requests"]):,}</span> requests in them. '
        f"Refreshes every {REFRESH_SECONDS} s; "
        "JSON for machines: the same URL without <code>Accept: text/html</code>. "
        '<span id="refreshed" role="status" aria-live="polite"></span></p></header>'
        f"{main}<script>{_SCRIPT}</script></body></html>"
    )
    return page.encode("utf-8")


def _headline(state: str) -> str:
    return "all systems operational" if state == "operational" else state


def _state_badge(state: str, label: str | None = None) -> str:
    mark, colour, background = STATE_STYLE.get(state, STATE_STYLE["no traffic"])
    return (
        f'<span class="state" style="color:{colour};background:{background}">'
        f'<span aria-hidden="true">{mark}</span> {escape(label or state)}</span>'
    )


def _banner(title: str, state: str, view: str) -> str:
    mark, colour, background = STATE_STYLE.get(state, STATE_STYLE["no traffic"])
    return (
        f'<section class="banner" data-view="{view}" data-state="{escape(state)}" '
        f'style="color:{colour};background:{background}" aria-label="{escape(title)}: {escape(state)}">'
        f'{escape(title)}<strong><span aria-hidden="true">{mark}</span> '
        f"{escape(_headline(state))}</strong></section>"
    )


def _recovering(recovering: Mapping[str, Any] | None) -> str:
    if not recovering:
        return ""
    at = time.strftime("%H:%M:%S UTC", time.gmtime(float(recovering["since"])))
    return (
        f'<p class="banner" id="recovering" style="color:{STATE_STYLE["recovering"][1]}">'
        f"<strong>Recovering</strong> Rolled back at {at}: {escape(str(recovering['reason']))}. "
        "The window still holds the failures from before it; requests since are healthy.</p>"
    )


def _evidence(status: Mapping[str, Any], sli: str, min_requests: int) -> str:
    """What a tile says of its figures; under the minimum it says it cannot judge yet."""
    requests = int(status["requests_5m"])
    rate = f"{float(status['error_rate_5m']):.1%} of {requests:,} requests failing ({escape(sli)})"
    if status["status"] == "not enough traffic":
        return f"{requests:,} of the {min_requests:,} requests needed to judge; {rate}"
    return rate


def _tiles(
    classes: Mapping[str, Any], five_xx_classes: Mapping[str, Any], sli: str, min_requests: int
) -> str:
    if not classes:
        return "<h2>Client classes</h2><p>No traffic yet: no class has sent a request.</p>"
    # First-party classes first: they alone set the overall state.
    ordered = sorted(classes.items(), key=lambda item: not item[1]["first_party"])
    items = []
    for name, status in ordered:
        state = str(status["status"])
        other = five_xx_classes.get(name, {"status": "no traffic", "error_rate_5m": 0.0})
        party = "first-party" if status["first_party"] else "third-party (never sets the overall state)"
        items.append(
            f'<li class="tile" data-class="{escape(name)}" data-state="{escape(state)}" '
            f'data-5xx-state="{escape(str(other["status"]))}" aria-labelledby="tile-{escape(name)}">'
            f'<h3 id="tile-{escape(name)}">{escape(name)}</h3>'
            f"{_state_badge(state)}"
            f'<div class="note">{escape(party)}<br>'
            f"{_evidence(status, sli, min_requests)}"
            "</div>"
            f'<div class="beside">5xx-only page: {_state_badge(str(other["status"]))} '
            f"({float(other['error_rate_5m']):.1%} 5xx)</div></li>"
        )
    return (
        '<h2 id="classes-heading">Client classes</h2>'
        f'<ul class="tiles" aria-labelledby="classes-heading">{"".join(items)}</ul>'
    )


def _alert(alert: Mapping[str, Any], slo: float) -> str:
    if alert["firing"]:
        state = _state_badge("outage", f"firing ({alert['fired_by']})")
    else:
        state = _state_badge("operational", "not firing")
    rates = "".join(
        f'<tr><th scope="row">{escape(label)}</th><td>{float(rate):,.1f}&times;</td></tr>'
        for label, rate in alert["burn_rates"].items()
    )
    return (
        f'<section aria-labelledby="alert-heading" data-alert="{"firing" if alert["firing"] else "quiet"}">'
        f'<h2 id="alert-heading">Burn-rate alert</h2><p>{state} on a {slo:.1%} first-party SLO</p>'
        '<table><tr><th scope="col">window</th><th scope="col">error-budget burn rate</th></tr>'
        f'{rates}</table><p class="note">1&times; spends the budget in exactly the SLO period.</p>'
        "</section>"
    )


def _store_attribute(store: Mapping[str, Any] | None) -> str:
    if store is None or not store.get("shared"):
        return ""
    return f' data-store="{"available" if store["available"] else "unavailable"}"'


def _deployment(deployment: Mapping[str, Any] | None, store: Mapping[str, Any] | None = None) -> str:
    if deployment is None:
        return ""
    candidate = deployment.get("candidate")
    rows = [("in force", str(deployment["active"])), ("mode", str(deployment["mode"]))]
    if candidate:
        rows.append(("candidate", str(candidate)))
    if store is not None and store.get("shared"):
        state = "available" if store["available"] else f"UNAVAILABLE: policy {store['failure_policy']} holds"
        rows.append(("state store", f"shared ({state})"))
    cells = "".join(f'<tr><th scope="row">{escape(k)}</th><td>{escape(v)}</td></tr>' for k, v in rows)
    events = "".join(
        f"<li>{escape(str(event['action']))} → {escape(str(event['active_version']))}: "
        f"{escape(str(event['reason']))}</li>"
        for event in deployment.get("events", [])[-5:]
    )
    recent = f'<p class="note">Recent changes:</p><ul class="note">{events}</ul>' if events else ""
    return (
        '<section aria-labelledby="config-heading"><h2 id="config-heading">Configuration</h2>'
        f'<table data-config="{escape(str(deployment["active"]))}"{_store_attribute(store)}>{cells}</table>'
        f"{recent}</section>"
    )
