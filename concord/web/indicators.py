"""`/indicators`: the common indicators as tables and server-rendered SVG charts
(pygal), `?format=csv` for scripts (an API token works too), `?drills=1` to count drills.

The figures are `concord.core.indicators`'; every count shown (tables, charts, the CSV
of its `rows`) is published through its `shown`: bands of five, `<5` under five.
Charts are images (`/indicators/chart/{name}.svg`): pygal's SVG carries its own style,
which the pages' Content-Security-Policy would refuse inline.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import faust
import pygal
from faust.web import Request, Response
from pygal.style import Style

from concord.common.types import utcnow
from concord.core import indicators as rules
from concord.core import odihr
from concord.web.auth import Actor
from concord.web.session import page_for
from concord.web.site import Site, bind, bytes_response, error, route

READERS = {"coordinator", "operator", "panel"}
#: The charts, each from one of the indicators' counters.
CHARTS = ("month", "category", "area", "bias")
#: pygal's style: Concord's colours, large enough to read on a phone.
STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#1f2937",
    foreground_strong="#111827",
    colors=("#1e3a8a",),
    font_family="system-ui, sans-serif",
    label_font_size=14,
    major_label_font_size=14,
    title_font_size=18,
)
#: What a chart's SVG may do: draw with its own style; never run a script.
CHART_CSP = "default-src 'none'; style-src 'unsafe-inline'"


@dataclass(frozen=True)
class IndicatorPages:
    """What the indicator pages need: the site."""

    site: Site


def figures(site: Site, drills: bool) -> rules.Indicators:
    """The indicators of the read model now (drills apart unless asked for)."""
    v = site.readmodel
    timed = v.audit.with_detail("after", rules.TIMED)
    return rules.compute(v.situations.values(), v.tasks.values(), timed, v.reviews.values(), drills)


def counter_of(ind: rules.Indicators, name: str) -> Counter[str]:
    """One counter of the indicators, by its name."""
    return {
        "month": ind.by_month,
        "category": ind.by_category,
        "area": ind.by_area,
        "bias": ind.by_bias,
    }[name]


async def show(p: IndicatorPages, request: Request) -> Response:
    """`GET /indicators[?drills=1][&format=csv]`."""
    site = p.site
    who = page_for(site, request, READERS)
    if not isinstance(who, Actor):
        return who
    drills = request.query.get("drills") == "1"
    ind = figures(site, drills)
    if request.query.get("format") == "csv":
        return csv_response(ind, drills)
    return site.pages.render(
        "indicators.html",
        session=who,
        ind=ind,
        drills=drills,
        shown=rules.shown,
        charts=[(name, sorted(counter_of(ind, name).items())) for name in CHARTS],
    )


async def odihr_csv(p: IndicatorPages, request: Request) -> Response:
    """`GET /indicators/odihr.csv[?year=2026]`: the year's incidents in ODIHR's
    categories (this year by default), drills left out, small counts suppressed."""
    site = p.site
    who = page_for(site, request, READERS)
    if not isinstance(who, Actor):
        return who
    this_year = utcnow().astimezone(ZoneInfo(site.directory.city.timezone)).year
    asked = request.query.get("year", str(this_year))
    if not asked.isdigit() or not 2000 <= int(asked) <= this_year:
        return error(400, f"year: give a year from 2000 to {this_year}", field="year")
    year = int(asked)
    return _csv([odihr.HEADER, *odihr.rows(site.readmodel.situations.values(), year)],
                f"concord-odihr-{year}.csv")  # fmt: skip


def _csv(rows: list[tuple[str, ...]], name: str) -> Response:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    return bytes_response(out.getvalue().encode(), "text/csv", headers=headers)


def csv_response(ind: rules.Indicators, drills: bool) -> Response:
    """The indicators as CSV (the banded counts, as on the page)."""
    name = "concord-indicators-with-drills.csv" if drills else "concord-indicators.csv"
    return _csv([("indicator", "dimension", "value"), *rules.rows(ind)], name)


async def chart(p: IndicatorPages, request: Request, name: str) -> Response:
    """`GET /indicators/chart/{name}.svg`: a bar chart of one breakdown of incidents."""
    site = p.site
    who = page_for(site, request, READERS)
    if not isinstance(who, Actor):
        return who
    if name not in CHARTS:
        return error(404, "no such chart")
    counts = counter_of(figures(site, request.query.get("drills") == "1"), name)
    keys = sorted(counts)
    bar = pygal.Bar(
        style=STYLE,
        show_legend=False,
        disable_xml_declaration=True,
        js=[],  # no script from anywhere
        width=640,
        height=300,
        x_label_rotation=30 if name != "month" else 0,
        print_values=False,  # the bars are bands' lower ends: the table says the band
    )
    names = {a.code: a.name for a in site.directory.areas}
    lang = site.pages.language_of(who)
    words = site.pages.catalogues.words
    bar.x_labels = [k if name == "month" else names.get(k) or words(k, lang) for k in keys]
    values = [rules.band(counts[k]) for k in keys]  # under 5: no bar at all
    top = max((v for v in values if v), default=0)
    bar.y_labels = list(range(0, top + 1, max(1, top // 5)))
    bar.add(site.pages.gettext("incidents", who), values)
    svg = bar.render(is_unicode=True).encode()
    headers = {"Content-Security-Policy": CHART_CSP, "Cache-Control": "no-store"}
    return bytes_response(svg, "image/svg+xml", headers=headers)


def register(app: faust.App, site: Site) -> None:
    """Bind the indicators page, its CSV and its charts."""
    p = IndicatorPages(site)
    route(app, "/indicators", get=bind(show, p))
    route(app, "/indicators/odihr.csv", get=bind(odihr_csv, p))
    route(app, "/indicators/chart/{name}.svg", get=bind(chart, p))
