"""What a page or report shows, as data: sections of KPIs, charts and tables. A page renders them with Plotly
(serving/dashboard/app.py); the exports write the same sections as one interactive HTML file or as a PDF
(matplotlib), so a page, its HTML export and its PDF always show the same figures."""

from __future__ import annotations

import datetime as dt
import decimal
import html
import io
import math
from dataclasses import dataclass, field

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import plotly.io as pio
from matplotlib.backends.backend_pdf import PdfPages

# the analytics dashboard spec's palette, first; Plotly's own after it
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"]
KINDS = ("kpis", "line", "bar", "pie", "scatter", "box", "table")
PDF_TABLE_ROWS = 30
# Plotly's toolbar: tooltips, zoom and the PNG download stay; the button that uploads a chart to Plotly's
# cloud goes (customer data must not leave, and these machines have no internet)
CHART_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["sendChartToCloud", "sendDataToCloud"]}


@dataclass
class Section:
    """One block of a page: `kind` is one of KINDS. Charts plot `y` against `x` (`color` splits series);
    a kpis section's frame has the columns label and value."""

    key: str
    title: str
    kind: str
    frame: pd.DataFrame
    x: str | None = None
    y: str | list[str] | None = None
    color: str | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown section kind {self.kind!r}: one of {', '.join(KINDS)}")


@dataclass
class Report:
    key: str
    title: str
    sections: list[Section]
    subtitle: str = ""
    made_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC).replace(microsecond=0))


def figure(section: Section) -> go.Figure:
    """The Plotly chart of a section: hover tooltips, zoom and PNG download come with every Plotly figure."""
    frame, kind = section.frame, section.kind
    common = {"color_discrete_sequence": PALETTE, "title": section.title}
    if kind == "line":
        fig = px.line(frame, x=section.x, y=section.y, color=section.color, markers=True, **common)
    elif kind == "bar":
        fig = px.bar(frame, x=section.x, y=section.y, color=section.color, barmode="group", **common)
    elif kind == "pie":
        fig = px.pie(frame, names=section.x, values=section.y, **common)
    elif kind == "scatter":
        fig = px.scatter(frame, x=section.x, y=section.y, color=section.color, opacity=0.6, **common)
    elif kind == "box":
        fig = px.box(frame, x=section.x, y=section.y, color=section.color, points="outliers", **common)
    else:
        raise ValueError(f"a {kind} section has no chart")
    fig.update_layout(
        template="plotly_white", margin={"l": 40, "r": 20, "t": 50, "b": 40}, height=360, legend_title_text=""
    )
    return fig


def kpi_text(value) -> str:
    """A KPI as the page shows it: whole numbers with thousands separators, amounts to 2 places, rates and
    probabilities (below 1) to 4."""
    if value is None:
        return "n/a"
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, decimal.Decimal):
        value = float(value)
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int) or value.is_integer():  # counts arrive as floats from some warehouses
        return f"{int(value):,}"
    return f"{value:,.4f}" if abs(value) < 1 else f"{value:,.2f}"


def to_html(report: Report) -> str:
    """The report as one self-contained, interactive HTML file (Plotly's JavaScript inside: no network)."""
    parts, first = [], True
    for section in report.sections:
        parts.append(f"<section id='{html.escape(section.key)}'><h2>{html.escape(section.title)}</h2>")
        if section.kind == "kpis":
            parts.append(
                "<div class='kpis'>"
                + "".join(
                    f"<div class='kpi'><div class='label'>{html.escape(str(r.label))}</div>"
                    f"<div class='value'>{html.escape(kpi_text(r.value))}</div></div>"
                    for r in section.frame.itertuples()
                )
                + "</div>"
            )
        elif section.kind == "table":
            parts.append(section.frame.to_html(index=False, border=0, classes="table", na_rep=""))
        else:
            parts.append(pio.to_html(figure(section), full_html=False, include_plotlyjs=first, config=CHART_CONFIG))
            first = False
        if section.note:
            parts.append(f"<p class='note'>{html.escape(section.note)}</p>")
        parts.append("</section>")
    style = (
        "body{font-family:sans-serif;margin:2em;color:#222} .kpis{display:flex;gap:1em;flex-wrap:wrap}"
        ".kpi{border:1px solid #ddd;border-radius:6px;padding:.6em 1em} .kpi .value{font-size:1.5em;"
        "color:#1f77b4} table{border-collapse:collapse} td,th{padding:.2em .6em;border-bottom:1px solid #eee}"
        ".note{color:#666;font-size:.9em}"
    )
    title = html.escape(report.title)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title><style>{style}</style>"
        f"</head><body><h1>{title}</h1><p>{html.escape(report.subtitle)} Made {report.made_at:%Y-%m-%d %H:%M} "
        f"UTC by c360.</p>{''.join(parts)}</body></html>"
    )


def to_pdf(report: Report) -> bytes:
    """The report as a PDF: a page per section, drawn with matplotlib from the same data as the page."""
    out = io.BytesIO()
    with PdfPages(out, metadata={"Title": report.title, "Creator": "c360"}) as pdf:
        fig = plt.figure(figsize=(8.27, 11.69))
        fig.text(0.08, 0.9, report.title, fontsize=22)
        fig.text(0.08, 0.86, f"{report.subtitle} Made {report.made_at:%Y-%m-%d %H:%M} UTC by c360.", fontsize=9)
        y = 0.8
        for section in report.sections:
            if section.kind == "kpis":
                fig.text(0.08, y, section.title, fontsize=13)
                for r in section.frame.itertuples():
                    y -= 0.03
                    fig.text(0.1, y, f"{r.label}: {kpi_text(r.value)}", fontsize=11)
                y -= 0.05
        pdf.savefig(fig)
        plt.close(fig)
        for section in report.sections:
            if section.kind == "kpis" or section.frame.empty:
                continue
            fig, ax = plt.subplots(figsize=(11.69, 8.27))
            _draw(ax, section)
            ax.set_title(section.title)
            pdf.savefig(fig)
            plt.close(fig)
    return out.getvalue()


def _draw(ax, section: Section) -> None:
    frame, x, ys = section.frame, section.x, section.y if isinstance(section.y, list) else [section.y]
    if section.kind == "table":
        shown = frame.head(PDF_TABLE_ROWS).astype(str)
        ax.axis("off")
        table = ax.table(cellText=shown.to_numpy(), colLabels=list(shown.columns), loc="upper center")
        table.auto_set_font_size(False)
        table.set_fontsize(7)
        if len(frame) > PDF_TABLE_ROWS:
            ax.text(0, 0, f"first {PDF_TABLE_ROWS} of {len(frame)} rows (the page's CSV has all)", fontsize=8)
        return
    if section.kind == "pie":
        ax.pie(frame[ys[0]], labels=frame[x].astype(str), colors=PALETTE, autopct="%1.0f%%")
        return
    groups = [(None, frame)] if section.color is None else list(frame.groupby(section.color, sort=True))
    if section.kind == "box":
        data = [part[ys[0]].dropna().to_numpy() for _, part in frame.groupby(x, sort=True)]
        ax.boxplot(data, tick_labels=[str(k) for k, _ in frame.groupby(x, sort=True)])
        ax.set_ylabel(ys[0])
        return
    width = 0.8 / max(1, len(groups) * len(ys))
    slot = 0
    categories = list(dict.fromkeys(frame[x].astype(str)))
    for name, part in groups:
        for y in ys:
            label = " ".join(str(p) for p in (name, y if len(ys) > 1 or name is None else "") if p)
            colour = PALETTE[slot % len(PALETTE)]
            if section.kind == "line":
                ax.plot(part[x], part[y], marker="o", color=colour, label=label)
            elif section.kind == "scatter":
                ax.scatter(part[x], part[y], s=8, alpha=0.6, color=colour, label=label)
            else:
                positions = [categories.index(str(v)) + slot * width for v in part[x]]
                ax.bar(positions, part[y], width=width, color=colour, label=label)
            slot += 1
    if section.kind == "bar":
        ax.set_xticks([i + width * (slot - 1) / 2 for i in range(len(categories))], categories, rotation=45, ha="right")
    ax.set_xlabel(x)
    if slot > 1:
        ax.legend(fontsize=8)
