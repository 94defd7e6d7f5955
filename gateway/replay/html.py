"""The replay as one self-contained web page: inline SVG charts, the events, the summary, the
layer-by-layer table, and a time cursor showing any minute's figures and status pages.

Pure functions of a `ReplayRecord` or a `Comparison`, returning the HTML text. Every
minute's figures are rendered here, in Python, and the page's small inline script only
shows one minute and moves the cursor; nothing is fetched when the file is opened.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from gateway.control_plane.status_page import STATE_STYLE
from gateway.replay.chart import KIND_COLOURS
from gateway.replay.compare import Comparison, ComparisonRow
from gateway.replay.engine import AppliedEvent, ReplayRecord, StatusAtMinute
from gateway.replay.summary import (
    KINDS,
    MinuteRow,
    ReplaySummary,
    clock_label,
    failed,
    minute_rows,
    summarize,
)

# Categorical colours for the first-party classes, each at least 4.5:1 against white.
CLASS_COLOURS = ("#1f5fa8", "#b3261e", "#2e7d32", "#6a3d9a", "#a0522d", "#00695c", "#ad1457", "#4e5b0f")
THIRD_PARTY_COLOUR = "#222222"
PUSH_COLOUR, ROLLBACK_COLOUR, OTHER_EVENT_COLOUR = "#b3261e", "#2e7d32", "#5f4b00"

WIDTH, LEFT, RIGHT = 960, 150, 16

_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#111;background:#fff}
main{max-width:62rem;margin:0 auto;padding:0 1rem 3rem}
h1{font-size:1.45rem;margin:1rem 0 .25rem}h2{font-size:1.15rem;margin:1.6rem 0 .4rem}
h3{font-size:1rem;margin:1rem 0 .2rem}
svg{width:100%;height:auto;display:block}figure{margin:0}
svg text{font:12px system-ui,sans-serif;fill:#222}
.legend{list-style:none;padding:0;margin:.3rem 0;display:flex;flex-wrap:wrap;gap:.3rem 1rem;font-size:.9rem}
.swatch{display:inline-block;width:1.4em;height:.7em;margin-right:.3em;vertical-align:middle}
table{border-collapse:collapse;margin:.4rem 0}th,td{text-align:left;padding:.2rem .7rem .2rem 0;
border-bottom:1px solid #ddd;vertical-align:top}td.n{text-align:right}
.cursor-box{padding:.5rem 0;border-bottom:2px solid #444}
.cursor-box input{width:100%}
.state{display:inline-block;border-radius:.3rem;padding:0 .35rem;font-weight:700}
.note{color:#333;font-size:.9rem}
"""

_SCRIPT = """
(function () {
  var input = document.getElementById("cursor");
  function show(minute) {
    document.querySelectorAll("[data-minute-panel]").forEach(function (panel) {
      panel.hidden = panel.getAttribute("data-minute-panel") !== String(minute);
    });
    document.querySelectorAll("line.cursor").forEach(function (line) {
      var step = Number(line.getAttribute("data-step"));
      var x = Number(line.getAttribute("data-left")) + (minute + 0.5) * step;
      line.setAttribute("x1", x);
      line.setAttribute("x2", x);
    });
  }
  var clock = input.getAttribute("data-clock").split(" ");
  function fromHash() {
    var match = /^#t=([0-9][0-9]:[0-9][0-9])$/.exec(location.hash);
    var minute = match ? clock.indexOf(match[1]) : -1;
    if (minute >= 0) { input.value = minute; show(minute); }
    return minute >= 0;
  }
  function remember(minute) {
    history.replaceState(null, "", "#t=" + clock[minute]);
  }
  input.addEventListener("input", function () {
    show(Number(input.value));
    remember(Number(input.value));
  });
  window.addEventListener("hashchange", fromHash);
  document.querySelectorAll("svg[data-minutes]").forEach(function (svg) {
    svg.addEventListener("click", function (event) {
      var box = svg.getBoundingClientRect();
      var x = (event.clientX - box.left) * Number(svg.getAttribute("data-width")) / box.width;
      var step = Number(svg.getAttribute("data-step"));
      var minute = Math.floor((x - Number(svg.getAttribute("data-left"))) / step);
      minute = Math.max(0, Math.min(Number(svg.getAttribute("data-minutes")) - 1, minute));
      input.value = minute;
      show(minute);
      remember(minute);
    });
  });
  if (!fromHash()) { show(Number(input.value)); }
})();
"""


def replay_report(record: ReplayRecord) -> str:
    """One replay: the timeline per class with the events, the status pages, the summary, the cursor."""
    rows = minute_rows(record)
    summary = summarize(record)
    cursor = _initial_minute(summary)
    panels = [_minute_panel(record, row, None, cursor) for row in rows]
    body = [_header(record, summary), _cursor(record, cursor, panels), *_timeline(record, rows, cursor)]
    body += [_events(record), _summary(record, summary)]
    return _page(record.scenario.title, body)


def comparison_report(comparison: Comparison) -> str:
    """Every layer's replay of the hour: the table, each layer's timeline, the cursor across all of them.

    The first replay (no safety layer, as on the day) also gets the full timeline per class.
    """
    history = comparison.records[0]
    rows = minute_rows(history)
    summary = summarize(history)
    cursor = _initial_minute(summary)
    layer_rows = [minute_rows(record) for record in comparison.records]
    panels = []
    for row in rows:
        layers = [
            (rows_of_layer[row.minute], record)
            for rows_of_layer, record in zip(layer_rows, comparison.records, strict=True)
        ]
        panels.append(_minute_panel(history, row, layers, cursor))
    # The table is the answer the report exists for, so it opens the page; the cursor follows.
    body = [_header(history, summary), _comparison_table(comparison), _cursor(history, cursor, panels)]
    body.append('<h2 id="layers-heading">Each layer\'s hour</h2>')
    body.append(
        '<p class="note">The share of first-party requests failing, minute by minute, and below it '
        "what the gateway's status page (under that replay's SLI) and a 5xx-only page said.</p>"
    )
    for record, rows_of_layer, result in zip(comparison.records, layer_rows, comparison.rows, strict=True):
        label = _layer_label(result)
        body.append(f'<h3 data-layer-chart="{escape(label)}">{escape(label)}</h3>')
        body.append(_layer_chart(record, rows_of_layer, label, cursor))
    body.append('<h2 id="history-heading">The hour without a safety layer, by client class</h2>')
    body += [*_timeline(history, rows, cursor), _events(history), _summary(history, summary)]
    return _page(f"{comparison.title}: each safety layer", body)


def _page(title: str, body: Sequence[str]) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head>"
        f"<body><main>{''.join(body)}</main><script>{_SCRIPT}</script></body></html>\n"
    )


def _header(record: ReplayRecord, summary: ReplaySummary) -> str:
    scenario = record.scenario
    return (
        f"<h1>{escape(scenario.title)}</h1>"
        f'<p class="note">Scenario <code>{escape(scenario.name)}</code>, seed {record.seed}, '
        f"{summary.requests:,} requests through the real gateway, "
        f"{clock_label(record, 0)} to {clock_label(record, scenario.minutes)} {escape(scenario.timezone)}; "
        f"safety layer: {escape(record.safety)}; SLI: {escape(record.sli)}.</p>"
    )


def _step(minutes: int) -> float:
    return (WIDTH - LEFT - RIGHT) / minutes


def _x(minute: float, minutes: int) -> float:
    return LEFT + minute * _step(minutes)


def _svg_open(record: ReplayRecord, height: int, label: str) -> str:
    minutes = record.scenario.minutes
    return (
        f'<svg viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(label)}" '
        f'data-minutes="{minutes}" data-width="{WIDTH}" data-left="{LEFT}" data-step="{_step(minutes):.4f}">'
        f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#fff"/>'
    )


def _cursor_line(record: ReplayRecord, top: float, bottom: float, minute: int) -> str:
    minutes = record.scenario.minutes
    x = _x(minute + 0.5, minutes)
    return (
        f'<line class="cursor" x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{bottom}" stroke="#000" '
        f'stroke-width="2" stroke-opacity="0.55" data-left="{LEFT}" data-step="{_step(minutes):.4f}"/>'
    )


def _rate(kinds: dict[str, int]) -> float:
    total = sum(kinds.values())
    return failed(kinds) / total if total else 0.0


def _step_path(values: Sequence[float], minutes: int, top: float, height: float) -> str:
    """A step line: each minute's value held across the minute."""
    points = []
    for minute, value in enumerate(values):
        y = top + (1 - value) * height
        points.append(f"{'M' if minute == 0 else 'L'}{_x(minute, minutes):.1f},{y:.1f}")
        points.append(f"L{_x(minute + 1, minutes):.1f},{y:.1f}")
    return " ".join(points)


def _axes(record: ReplayRecord, top: float, height: float, percent: bool) -> str:
    minutes = record.scenario.minutes
    out = []
    if percent:
        for share in (0.0, 0.5, 1.0):
            y = top + (1 - share) * height
            out.append(
                f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ccc"/>'
                f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{share:.0%}</text>'
            )
    tick = 15 if minutes >= 60 else 5 if minutes >= 10 else 1
    for minute in range(0, minutes + 1, tick):
        x = _x(minute, minutes)
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top + height}" y2="{top + height + 4}" stroke="#444"/>'
            f'<text x="{x:.1f}" y="{top + height + 17}" text-anchor="middle">'
            f"{clock_label(record, minute)}</text>"
        )
    return "".join(out)


def _first_party_classes(record: ReplayRecord) -> list[str]:
    """The first-party classes that sent traffic in this replay, in the record's order."""
    seen = {client_class for _minute, client_class, _surface, _status in record.counts}
    return [name for name, first in record.classes.items() if first and name in seen]


def _event_colour(event: AppliedEvent) -> str:
    if event.action.startswith("push"):
        return PUSH_COLOUR
    if event.action.startswith("rollback") or event.action in ("abandoned", "blocked"):
        return ROLLBACK_COLOUR
    return OTHER_EVENT_COLOUR


def _event_marks(record: ReplayRecord, top: float, bottom: float, labels: bool) -> str:
    minutes = record.scenario.minutes
    out = []
    for index, event in enumerate(record.events):
        x = _x(event.minute, minutes)
        colour = _event_colour(event)
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{bottom}" stroke="{colour}" '
            f'stroke-width="2" stroke-dasharray="4 3">'
            f"<title>{escape(_event_text(record, event))}</title></line>"
        )
        if labels:
            out.append(
                f'<text x="{x + 4:.1f}" y="{top + 12 + 13 * (index % 3)}" style="fill:{colour}" '
                f'class="event-label">{escape(event.action.replace("_", " "))}</text>'
            )
    return "".join(out)


def _event_text(record: ReplayRecord, event: AppliedEvent) -> str:
    return (
        f"{clock_label(record, event.minute)} {event.action.replace('_', ' ')} -> {event.version}: "
        f"{event.note} (by {event.by})"
    )


def _status_strip(record: ReplayRecord, top: float) -> str:
    """Two rows of one cell a minute: the status page under the replay's SLI, and a 5xx-only page."""
    minutes = record.scenario.minutes
    out = []
    views = (
        ("status page", [page.status for page in record.status_by_minute]),
        ("5xx-only page", [page.status_5xx for page in record.status_by_minute]),
    )
    for row, (label, states) in enumerate(views):
        y = top + row * 16
        out.append(
            f'<text x="{LEFT - 6}" y="{y + 11}" text-anchor="end" font-size="10">{escape(label)}</text>'
        )
        for minute, state in enumerate(states):
            colour = STATE_STYLE[state][1]
            out.append(
                f'<rect x="{_x(minute, minutes):.1f}" y="{y}" width="{_step(minutes) + 0.3:.2f}" height="13" '
                f'fill="{colour}"><title>{clock_label(record, minute)} {escape(label)}: {state}</title>'
                "</rect>"
            )
    return "".join(out)


def _state_legend() -> str:
    items = "".join(
        f'<li><span class="swatch" style="background:{colour}"></span>{escape(state)}</li>'
        for state, (_mark, colour, _background) in STATE_STYLE.items()
    )
    return f'<ul class="legend" aria-label="status page states">{items}</ul>'


def _timeline(record: ReplayRecord, rows: list[MinuteRow], cursor: int) -> list[str]:
    minutes = record.scenario.minutes
    first_party = _first_party_classes(record)
    colours = {name: CLASS_COLOURS[i % len(CLASS_COLOURS)] for i, name in enumerate(first_party)}
    top, height = 14.0, 200.0
    lines = [
        f'<path d="{_step_path([_rate(row.by_class.get(name, {})) for row in rows], minutes, top, height)}" '
        f'fill="none" stroke="{colours[name]}" stroke-width="2" data-class="{escape(name)}"/>'
        for name in first_party
    ]
    lines.append(
        f'<path d="{_step_path([_rate(row.third_party) for row in rows], minutes, top, height)}" fill="none" '
        f'stroke="{THIRD_PARTY_COLOUR}" stroke-width="2" stroke-dasharray="6 4" data-class="third-party"/>'
    )
    strip_top = top + height + 30
    chart_height = int(strip_top + 2 * 16 + 8)
    rates = (
        _svg_open(record, chart_height, "share of each client class's requests failing, minute by minute")
        + _axes(record, top, height, percent=True)
        + "".join(lines)
        + _event_marks(record, top, top + height, labels=True)
        + _status_strip(record, strip_top)
        + _cursor_line(record, top, strip_top + 29, cursor)
        + "</svg>"
    )
    legend = "".join(
        f'<li><span class="swatch" style="background:{colour}"></span>{escape(name)}</li>'
        for name, colour in colours.items()
    )
    legend += (
        '<li><span class="swatch" style="background:repeating-linear-gradient(90deg,'
        f'{THIRD_PARTY_COLOUR} 0 6px,transparent 6px 10px)"></span>third-party apps</li>'
    )
    outcomes = _outcomes_chart(record, rows, cursor)
    return [
        '<h2 id="timeline-heading">Requests failing, by client class</h2>',
        '<figure aria-labelledby="timeline-heading" id="timeline">',
        rates,
        f'<ul class="legend" aria-label="client classes">{legend}</ul>',
        _state_legend(),
        "</figure>",
        "<h3>First-party requests per minute, by outcome</h3>",
        outcomes,
    ]


def _outcomes_chart(record: ReplayRecord, rows: list[MinuteRow], cursor: int) -> str:
    minutes = record.scenario.minutes
    top, height = 8.0, 130.0
    peak = max([sum(row.first_party.values()) for row in rows] + [1])
    bars = []
    for row in rows:
        base = top + height
        for kind in KINDS:
            count = row.first_party.get(kind, 0)
            if not count:
                continue
            bar = count / peak * height
            base -= bar
            bars.append(
                f'<rect x="{_x(row.minute, minutes):.1f}" y="{base:.1f}" width="{_step(minutes):.2f}" '
                f'height="{bar:.1f}" fill="{KIND_COLOURS[kind]}">'
                f"<title>{row.time} {kind}: {count:,}</title></rect>"
            )
    legend = "".join(
        f'<li><span class="swatch" style="background:{KIND_COLOURS[kind]}"></span>{kind}</li>'
        for kind in KINDS
    )
    return (
        _svg_open(record, int(top + height + 24), "first-party requests per minute, stacked by outcome")
        + f'<text x="{LEFT - 6}" y="{top + 10}" text-anchor="end">{peak:,}</text>'
        + "".join(bars)
        + _axes(record, top, height, percent=False)
        + _event_marks(record, top, top + height, labels=False)
        + _cursor_line(record, top, top + height, cursor)
        + f'</svg><ul class="legend" aria-label="outcomes">{legend}</ul>'
    )


def _layer_chart(record: ReplayRecord, rows: list[MinuteRow], label: str, cursor: int) -> str:
    minutes = record.scenario.minutes
    top, height = 8.0, 70.0
    line = _step_path([row.first_party_failure_rate for row in rows], minutes, top, height)
    strip_top = top + height + 26
    return (
        _svg_open(record, int(strip_top + 2 * 16 + 4), f"{label}: first-party requests failing")
        + _axes(record, top, height, percent=True)
        + f'<path d="{line}" fill="none" stroke="{PUSH_COLOUR}" stroke-width="2"/>'
        + _event_marks(record, top, top + height, labels=True)
        + _status_strip(record, strip_top)
        + _cursor_line(record, top, strip_top + 29, cursor)
        + "</svg>"
    )


def _initial_minute(summary: ReplaySummary) -> int:
    """Where the cursor starts: the middle of the impact, or the first minute when there was none."""
    if summary.impact_first_minute is None or summary.impact_last_minute is None:
        return 0
    return (summary.impact_first_minute + summary.impact_last_minute) // 2


def _cursor(record: ReplayRecord, start: int, panels: list[str]) -> str:
    minutes = record.scenario.minutes
    # The clock label of every minute, so that `report.html#t=09:25` opens at that minute.
    labels = " ".join(clock_label(record, minute) for minute in range(minutes))
    return (
        '<section class="cursor-box" aria-labelledby="cursor-label">'
        f'<label id="cursor-label" for="cursor"><strong>Time cursor</strong>: drag, use the arrow keys, or '
        "click a chart to see that minute's figures and what each status page said; "
        f"a link to a minute ends in <code>#t={clock_label(record, start)}</code></label>"
        f'<input type="range" id="cursor" min="0" max="{minutes - 1}" value="{start}" step="1" '
        f'data-clock="{labels}">'
        f'<div id="minute-figures" aria-live="polite">{"".join(panels)}</div></section>'
    )


def _badge(state: str) -> str:
    mark, colour, background = STATE_STYLE[state]
    return (
        f'<span class="state" style="color:{colour};background:{background}" data-state="{escape(state)}">'
        f'<span aria-hidden="true">{mark}</span> {escape(state)}</span>'
    )


def _pages(page: StatusAtMinute, sli: str) -> str:
    alert = "firing" if page.alert_firing else "quiet"
    return (
        f'<span data-view="configured">status page ({escape(sli)}): {_badge(page.status)}</span> · '
        f'<span data-view="5xx">5xx-only page: {_badge(page.status_5xx)}</span> · '
        f'<span data-alert="{alert}">burn-rate alert: {alert}</span>'
    )


def _minute_panel(
    record: ReplayRecord, row: MinuteRow, layers: list[tuple[MinuteRow, ReplayRecord]] | None, start: int
) -> str:
    first_party = _first_party_classes(record)
    cells = (
        "".join(f'<td class="n">{_share(row.by_class.get(name, {}))}</td>' for name in first_party)
        + f'<td class="n">{_share(row.third_party)}</td>'
    )
    heads = "".join(f'<th scope="col">{escape(name)}</th>' for name in first_party)
    kinds = ", ".join(f"{kind} {count:,}" for kind, count in row.first_party.items()) or "none"
    events = "".join(f"<li>{escape(_event_text(record, event))}</li>" for event in row.events)
    parts = [
        f'<div data-minute-panel="{row.minute}"{"" if row.minute == start else " hidden"}>',
        f'<p><strong class="minute-time">{row.time} {escape(record.scenario.timezone)}</strong> '
        f"(minute {row.minute}) · plans in force: <code>{escape(row.plans)}</code></p>",
        f"<p>{_pages(row.status_page, record.sli)}</p>",
        f'<table><tr><td></td>{heads}<th scope="col">third-party</th></tr>'
        f'<tr><th scope="row">failing</th>{cells}</tr></table>',
        f'<p class="note">first-party requests: {sum(row.first_party.values()):,} ({kinds})</p>',
    ]
    if events:
        parts.append(f'<ul class="note">{events}</ul>')
    if layers is not None:
        parts.append(_layers_at_minute(layers))
    parts.append("</div>")
    return "".join(parts)


def _layers_at_minute(layers: list[tuple[MinuteRow, ReplayRecord]]) -> str:
    rows = []
    for row, record in layers:
        events = "; ".join(f"{e.action.replace('_', ' ')} ({e.by})" for e in row.events)
        rows.append(
            f'<tr><th scope="row">{escape(record.layer)}</th><td>{escape(record.sli)}</td>'
            f'<td class="n">{_share(row.first_party)}</td><td>{_badge(row.status_page.status)}</td>'
            f"<td>{_badge(row.status_page.status_5xx)}</td>"
            f"<td>{'firing' if row.status_page.alert_firing else 'quiet'}</td>"
            f"<td><code>{escape(row.plans)}</code></td><td>{escape(events)}</td></tr>"
        )
    return (
        '<table class="layers-at-minute"><tr><th scope="col">layer</th><th scope="col">SLI</th>'
        '<th scope="col">1p failing</th><th scope="col">status page</th><th scope="col">5xx-only page</th>'
        '<th scope="col">alert</th><th scope="col">in force</th><th scope="col">events</th></tr>'
        f"{''.join(rows)}</table>"
    )


def _share(kinds: dict[str, int]) -> str:
    total = sum(kinds.values())
    return f"{_rate(kinds):.1%} of {total:,}" if total else "none"


def _events(record: ReplayRecord) -> str:
    if not record.events:
        return '<h2 id="events-heading">Events</h2><p>None.</p>'
    rows = "".join(
        f'<tr data-event="{escape(event.action)}"><td>{clock_label(record, event.minute)}</td>'
        f"<td>{escape(event.action.replace('_', ' '))}</td><td><code>{escape(event.version)}</code></td>"
        f"<td>{escape(event.note)}</td><td>{escape(event.by)}</td></tr>"
        for event in record.events
    )
    return (
        '<h2 id="events-heading">Events</h2><table id="events" aria-labelledby="events-heading">'
        f'<tr><th scope="col">{escape(record.scenario.timezone)}</th><th scope="col">what</th>'
        '<th scope="col">in force after</th><th scope="col">note</th><th scope="col">by</th></tr>'
        f"{rows}</table>"
    )


def _summary(record: ReplayRecord, summary: ReplaySummary) -> str:
    tz = escape(record.scenario.timezone)
    failures = ", ".join(f"{kind} {n:,}" for kind, n in summary.first_party_by_kind.items() if kind != "ok")
    items = [
        (
            "requests through the gateway",
            f"{summary.requests:,} ({summary.first_party_requests:,} first-party, "
            f"{summary.third_party_requests:,} third-party)",
        ),
        (
            "first-party requests failed",
            f"{summary.first_party_failed:,} "
            f"({_percent(summary.first_party_failed, summary.first_party_requests)})"
            + (f": {failures}" if failures else ""),
        ),
    ]
    if summary.first_party_failed_by_surface:
        items.append(
            (
                "failed, by surface",
                ", ".join(f"{surface} {n:,}" for surface, n in summary.first_party_failed_by_surface.items()),
            )
        )
    if summary.impact_first_minute is not None and summary.impact_last_minute is not None:
        items.append(
            (
                "minutes of impact",
                f"{summary.impact_minutes} ({clock_label(record, summary.impact_first_minute)}"
                f" to {clock_label(record, summary.impact_last_minute + 1)} {tz})",
            )
        )
    else:
        items.append(("minutes of impact", "0 (no minute above the impact threshold)"))
    rollback = summary.push_to_rollback_minutes
    items.append(("push to rollback", "no rollback" if rollback is None else f"{rollback} minutes"))
    items.append(
        (
            "third-party 467s",
            f"{summary.third_party_467:,}; failure rate "
            f"{summary.third_party_failure_rate_before_change:.1%} before the change, "
            f"{summary.third_party_failure_rate_during_change:.1%} while it was in force",
        )
    )
    said = [page.status for page in record.status_by_minute]
    said_5xx = [page.status_5xx for page in record.status_by_minute]
    items.append(
        (
            "minutes the status page said outage",
            f"{said.count('outage')} ({escape(record.sli)}); a 5xx-only page: {said_5xx.count('outage')}",
        )
    )
    rows = "".join(f'<tr><th scope="row">{escape(k)}</th><td>{v}</td></tr>' for k, v in items)
    return (
        '<h2 id="summary-heading">Summary</h2>'
        f'<table id="summary" aria-labelledby="summary-heading">{rows}</table>'
    )


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "0%"


def _layer_label(row: ComparisonRow) -> str:
    return row.layer if row.sli == "-" else f"{row.layer} ({row.sli})"


def _comparison_table(comparison: Comparison) -> str:
    rows = []
    for row in comparison.rows:
        detect = (
            "-"
            if row.minutes_to_detect is None
            else (f"{'<1' if row.minutes_to_detect == 0 else row.minutes_to_detect} ({row.detected_by})")
        )
        rows.append(
            f'<tr data-layer="{escape(_layer_label(row))}"><th scope="row">{escape(row.layer)}</th>'
            f'<td>{escape(row.sli)}</td><td class="n">{row.first_party_failed:,}</td>'
            f'<td>{escape(detect)}</td><td class="n">{row.minutes_to_recover}</td>'
            f'<td class="n">{row.error_budget_share:.1%}</td><td class="n">{row.third_party_467:,}</td>'
            f'<td class="n">{row.third_party_failure_rate_during_change:.1%}</td>'
            f'<td class="n">{row.instances}</td><td class="n">{row.instances_ran_pushed_table}</td>'
            f"<td><code>{escape(row.in_force_at_end)}</code></td></tr>"
        )
    heads = "".join(
        f'<th scope="col">{h}</th>'
        for h in (
            "layer",
            "SLI counts as failed",
            "1p requests failed",
            "minutes to detect",
            "minutes to recover",
            "month's error budget",
            "3p 467s",
            "3p failing during change",
            "instances",
            "instances that ran the pushed table",
            "in force at the end",
        )
    )
    return (
        '<h2 id="layers-table-heading">What each safety layer would have done with this push</h2>'
        f'<p class="note">The same hour replayed once per layer (seed {comparison.seed}), every row '
        "through the real gateway; the first row is the hour as it happened, with no layer.</p>"
        f'<table id="layers" aria-labelledby="layers-table-heading"><tr>{heads}</tr>{"".join(rows)}</table>'
    )
