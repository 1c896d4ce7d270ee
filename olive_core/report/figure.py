"""The scatter of candidates as a plotly.js figure (data, layout, config), built as plain JSON.

Candidates are split between two traces (goals met, goal missed) so that each candidate is
exactly one point; the Pareto front, the best model and the input model are drawn over them
as traces of their own, and goals as dashed lines. Every text is HTML-escaped here: plotly.js
reads a few tags in its labels, and a run's configs are not markup.
"""

from __future__ import annotations

from html import escape as _escape
from typing import Any

from olive_core.report.content import Axis, Plot, Point, fmt

#: trace uids the browser test and the page's script find the traces by
CANDIDATES_MET = "candidates-met"
CANDIDATES_MISSED = "candidates-missed"
PARETO = "pareto-front"
BEST = "best"
INPUT = "input-model"

_MET_COLOR = "#1f6feb"
_MISSED_COLOR = "#8b949e"
_ACCENT = "#d29922"


def escape(text: str) -> str:
    """Markup characters as entities, which plotly.js shows as text (it shows ``&quot;`` as is)."""
    return _escape(text, quote=False)


def scatter_figure(plot: Plot) -> dict[str, Any]:
    x_title = _axis_title(plot.x)
    y_title = _axis_title(plot.y) if plot.y else "candidate #"
    template = f"#%{{customdata}}<br>{escape(plot.x.metric.key)} %{{x:.4g}}<br>{escape(plot.y.metric.key) if plot.y else 'candidate'} %{{y:.4g}}<br>%{{text}}<extra></extra>"
    data = [
        _points(CANDIDATES_MET, "candidate (goals met)", [p for p in plot.points if p.goals_met], template,
                {"color": _MET_COLOR, "size": 10, "symbol": "circle"}),
        _points(CANDIDATES_MISSED, "candidate (goal missed)", [p for p in plot.points if not p.goals_met], template,
                {"color": _MISSED_COLOR, "size": 10, "symbol": "circle-open", "line": {"width": 2}}),
    ]
    front = sorted((p for p in plot.points if p.pareto), key=lambda p: p.x)
    if front:
        trace = _points(PARETO, "Pareto front", front, template,
                        {"color": _ACCENT, "size": 18, "symbol": "diamond-open", "line": {"width": 2}})
        trace.update(mode="lines+markers", line={"color": _ACCENT, "dash": "dot", "width": 1.5})
        data.append(trace)
    best = [p for p in plot.points if p.best]
    if best:
        data.append(_points(BEST, "best", best, template, {"color": _ACCENT, "size": 20, "symbol": "star", "line": {"color": "#6e4c00", "width": 1}}))
    if plot.input_point is not None and (plot.y is None or plot.input_point[1] is not None):
        x, y = plot.input_point
        data.append({
            "uid": INPUT, "type": "scatter", "mode": "markers", "name": "input model",
            "x": [x], "y": [y if plot.y else 0],
            "marker": {"color": "#24292f", "size": 12, "symbol": "x-thin-open", "line": {"width": 2}},
            "hovertemplate": f"input model<br>{escape(plot.x.metric.key)} %{{x:.4g}}<extra></extra>",
        })
    shapes, annotations = [], []
    for axis, along in ((plot.x, "x"), (plot.y, "y")):
        if axis is not None and axis.goal is not None:
            shape, note = _goal_line(axis, along)
            shapes.append(shape)
            annotations.append(note)
    layout = {
        "xaxis": {"title": {"text": x_title}, "zeroline": False},
        "yaxis": {"title": {"text": y_title}, "zeroline": False},
        "shapes": shapes,
        "annotations": annotations,
        "legend": {"orientation": "h", "y": -0.2},
        "margin": {"t": 30, "r": 20, "b": 40, "l": 70},
        "hovermode": "closest",
        "template": None,
        "plot_bgcolor": "#ffffff",
        "paper_bgcolor": "#ffffff",
    }
    config = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["sendDataToCloud", "lasso2d", "select2d"]}
    return {"data": data, "layout": layout, "config": config}


def _points(uid: str, name: str, points: list[Point], template: str, marker: dict[str, Any]) -> dict[str, Any]:
    return {
        "uid": uid,
        "type": "scatter",
        "mode": "markers",
        "name": name,
        "x": [p.x for p in points],
        "y": [p.y for p in points],
        "customdata": [p.candidate + 1 for p in points],
        "text": [escape(p.hover) for p in points],
        "hovertemplate": template,
        "marker": marker,
    }


def _axis_title(axis: Axis) -> str:
    better = "lower is better" if axis.metric.direction == "min" else "higher is better"
    return f"{escape(axis.metric.key)} ({better})"


def _goal_line(axis: Axis, along: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A dashed line across the plot at the goal's bound, labelled with it."""
    sign = "≤" if axis.metric.direction == "min" else "≥"
    label = f"goal {escape(axis.metric.key)} {sign} {fmt(axis.goal)}"
    line = {"color": "#cf222e", "dash": "dash", "width": 1.5}
    if along == "x":
        shape = {"type": "line", "xref": "x", "yref": "paper", "x0": axis.goal, "x1": axis.goal, "y0": 0, "y1": 1, "line": line}
        note = {"xref": "x", "yref": "paper", "x": axis.goal, "y": 1, "text": label, "showarrow": False, "xanchor": "left", "yanchor": "top", "font": {"color": "#cf222e", "size": 11}}
    else:
        shape = {"type": "line", "xref": "paper", "yref": "y", "x0": 0, "x1": 1, "y0": axis.goal, "y1": axis.goal, "line": line}
        note = {"xref": "paper", "yref": "y", "x": 1, "y": axis.goal, "text": label, "showarrow": False, "xanchor": "right", "yanchor": "bottom", "font": {"color": "#cf222e", "size": 11}}
    return shape, note
