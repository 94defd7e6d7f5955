"""The impact report as one self-contained web page: a timeline per client class of the
requests whose outcome changes, then the changes and the breakdowns. Pure function of an
`Impact`, in the style of the replay's page (inline SVG, nothing fetched)."""

from __future__ import annotations

from html import escape

from gateway.impact.report import (
    GAIN,
    KIND_LABEL,
    KIND_ORDER,
    LOSS,
    OTHER_REFUSAL,
    Breakdown,
    Impact,
    first_party_line,
)

KIND_COLOURS = {LOSS: "#b3261e", OTHER_REFUSAL: "#5f4b00", GAIN: "#2e7d32"}
WIDTH, LEFT, HEIGHT = 960, 60, 120

_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#111;background:#fff}
main{max-width:62rem;margin:0 auto;padding:0 1rem 3rem}
h1{font-size:1.45rem;margin:1rem 0 .25rem}h2{font-size:1.15rem;margin:1.6rem 0 .4rem}
h3{font-size:1rem;margin:1rem 0 .2rem}
svg{width:100%;height:auto;display:block}svg text{font:12px system-ui,sans-serif;fill:#222}
.legend{list-style:none;padding:0;margin:.3rem 0;display:flex;flex-wrap:wrap;gap:.3rem 1rem;font-size:.9rem}
.swatch{display:inline-block;width:1.4em;height:.7em;margin-right:.3em;vertical-align:middle}
table{border-collapse:collapse;margin:.4rem 0}th,td{text-align:left;padding:.2rem .7rem .2rem 0;
border-bottom:1px solid #ddd;vertical-align:top}td.n{text-align:right}
.gate{font-weight:700}.gate.fails{color:#b3261e}
"""


def impact_report(impact: Impact) -> str:
    undecided = ", ".join(f"{reason}: {count:,}" for reason, count in impact.not_decided) or "none"
    gate = "gate fails" if impact.first_party_loses else "gate"
    body = [
        "<h1>Impact of a plan change on logged traffic</h1>",
        f"<p>OLD <code>{escape(impact.old)}</code><br>NEW <code>{escape(impact.new)}</code></p>",
        f"<p>{impact.lines:,} log lines; {impact.decided:,} decided under both plans; not decided: "
        f"{escape(undecided)}.</p>",
        f'<p class="{gate}">{escape(first_party_line(impact))}</p>',
        "<h2>Timeline of the requests that change, per class</h2>",
        _legend(),
        *_timelines(impact),
        "<h2>Requests whose outcome changes</h2>",
        _changes(impact),
        "<h2>By client class</h2>",
        _breakdown(impact.by_class, "class"),
        "<h2>By plan</h2>",
        _breakdown(impact.by_plan, "plan"),
        "<h2>By endpoint</h2>",
        _breakdown(impact.by_endpoint, "endpoint"),
    ]
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>gw467 impact</title><style>{_CSS}</style></head><body><main>\n"
        + "\n".join(body)
        + "\n</main></body></html>\n"
    )


def _legend() -> str:
    items = "".join(
        f'<li><span class="swatch" style="background:{KIND_COLOURS[kind]}"></span>'
        f"{escape(KIND_LABEL[kind])}</li>"
        for kind in KIND_ORDER
    )
    return f'<ul class="legend">{items}</ul>'


def _timelines(impact: Impact) -> list[str]:
    minutes = sorted({minute for _, _, points in impact.timeline for minute, _, _ in points})
    if not minutes:
        return ["<p>No request changes outcome.</p>"]
    index = {minute: position for position, minute in enumerate(minutes)}
    step = (WIDTH - LEFT) / len(minutes)
    charts = []
    for client_class, first_party, points in impact.timeline:
        stacks: dict[str, dict[str, int]] = {}
        for minute, kind, count in points:
            stacks.setdefault(minute, {})[kind] = count
        peak = max(sum(stack.values()) for stack in stacks.values())
        bars = []
        for minute, stack in sorted(stacks.items()):
            base = HEIGHT - 20.0
            for kind in KIND_ORDER:
                count = stack.get(kind, 0)
                if not count:
                    continue
                height = (HEIGHT - 30) * count / peak
                base -= height
                bars.append(
                    f'<rect x="{LEFT + index[minute] * step:.1f}" y="{base:.1f}" '
                    f'width="{max(step - 1, 1):.1f}" '
                    f'height="{height:.1f}" fill="{KIND_COLOURS[kind]}"><title>{escape(minute)}: {count} '
                    f"{escape(KIND_LABEL[kind])}</title></rect>"
                )
        party = "first party" if first_party else "third party"
        label = f"{client_class} ({party})"
        charts.append(
            f"<h3>{escape(label)}</h3>"
            f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
            f'aria-label="{escape(label)}: changed requests per minute">'
            f'<text x="0" y="14">{peak}</text><text x="0" y="{HEIGHT - 24}">0</text>'
            f'<text x="{LEFT}" y="{HEIGHT - 4}">{escape(minutes[0])}</text>'
            f'<text x="{WIDTH}" y="{HEIGHT - 4}" text-anchor="end">{escape(minutes[-1])}</text>'
            + "".join(bars)
            + "</svg>"
        )
    return charts


def _changes(impact: Impact) -> str:
    rows = "".join(
        f"<tr><td>{escape(c.client)}</td><td>{escape(c.client_class)}</td>"
        f"<td>{'first' if c.first_party else 'third'}</td><td>{escape(c.plan)}</td>"
        f"<td>{escape(c.endpoint)}</td>"
        f"<td>{escape(c.old)} &rarr; {escape(c.new)}</td><td class=n>{c.requests:,}</td>"
        f"<td><code>{escape(c.example)}</code></td></tr>"
        for c in impact.changes
    )
    head = (
        "<tr><th>client</th><th>class</th><th>party</th><th>plan</th><th>endpoint</th><th>old &rarr; new</th>"
    )
    return f"<table>{head}<th>requests</th><th>example</th></tr>{rows}</table>"


def _breakdown(rows: tuple[Breakdown, ...], name: str) -> str:
    labels = "".join(f"<th>{escape(KIND_LABEL[kind])}</th>" for kind in KIND_ORDER)
    body = "".join(
        f"<tr><td>{escape(row.key)}</td><td class=n>{row.lost:,}</td><td class=n>{row.other_refusal:,}</td>"
        f"<td class=n>{row.gained:,}</td></tr>"
        for row in rows
    )
    return f"<table><tr><th>{name}</th>{labels}</tr>{body}</table>"
