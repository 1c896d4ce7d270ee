"""The report as one self-contained HTML page: plotly.js, the page's script and style inlined,
no request to anything outside the file (the page's Content-Security-Policy forbids them).

Every text from run.json goes through :func:`html.escape`; the figure's JSON is embedded with
``<``, ``>`` and ``&`` as escapes, so no config or error message can end a script element.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from functools import lru_cache
from html import escape
from importlib import resources, util
from pathlib import Path
from typing import Any

from olive_core.errors import OliveError
from olive_core.report.content import Figure, LineageStep, Metric, ReportContent, Row, fmt
from olive_core.report.figure import scatter_figure
from olive_core.version import __version__

#: the page may run its own inline code and nothing else; it fetches nothing
CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:; font-src data:"

#: CPU flags that decide INT8 and FP16 speed (docs: measured figures quote them)
KEY_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "avx512_fp16", "amx_int8", "amx_bf16", "asimddp", "i8mm", "sve")


@lru_cache(maxsize=1)
def plotly_js() -> tuple[str, str]:
    """plotly.js as the ``plotly`` package ships it, and its version; read, never imported
    (importing plotly would cost start-up time and is not needed to inline its bundle)."""
    spec = util.find_spec("plotly")
    locations = list(spec.submodule_search_locations or []) if spec else []
    bundle = next((Path(p) / "package_data" / "plotly.min.js" for p in locations if (Path(p) / "package_data" / "plotly.min.js").is_file()), None)
    if bundle is None:
        raise OliveError("plotly.js was not found: the report inlines it from the plotly package", hint="pip install plotly")
    text = bundle.read_text(encoding="utf-8")
    version = text[:200].split("plotly.js v", 1)[1].split()[0] if "plotly.js v" in text[:200] else "unknown"
    return text.replace("</script", "<\\/script"), version


def _asset(name: str) -> str:
    return resources.files("olive_core.report").joinpath("assets", name).read_text(encoding="utf-8")


def render_page(content: ReportContent) -> str:
    """The whole page."""
    run = content.run
    js, plotly_version = plotly_js()
    sections = [
        _header(content),
        _headline(content),
        _plot_section(content),
        _table_section(content),
        _lineage_section(content),
        _environment_section(content),
        _workflow_section(content),
        (
            f"<footer>Made by olive-core {escape(__version__)} from run.json alone; plotly.js {escape(plotly_version)} "
            "is inlined, so this file works offline.</footer>"
        ),
    ]
    figure = ""
    if content.plot is not None:
        figure = f'<script type="application/json" id="scatter-figure">{_json(scatter_figure(content.plot))}</script>'
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>olive report: {escape(content.title)} ({escape(run.run_id)})</title>",
        f"<style>{_asset('report.css')}</style>",
        "</head><body><main>",
        *sections,
        "</main>",
        figure,
        f"<script>{js}</script>",
        f"<script>{_asset('report.js')}</script>",
        "</body></html>",
        "",
    ])


def _json(data: Any) -> str:
    """JSON safe inside a script element: non-finite numbers become null, markup characters escapes."""
    text = json.dumps(_finite(data), allow_nan=False, ensure_ascii=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _finite(data: Any) -> Any:
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_finite(v) for v in data]
    return data


def _time(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


# -- sections --------------------------------------------------------------------------------


def _header(content: ReportContent) -> str:
    run = content.run
    workflow = f" · workflow {escape(run.workflow_file)}" if run.workflow_file else ""
    log = f" · log {escape(run.log)}" if run.log else ""
    stopped = f" · stopped early: {escape(run.stopped_early)}" if run.stopped_early else ""
    model = f"input model: {escape(run.input_model.type)} {escape(run.input_model.path)}"
    return (
        f"<h1>{escape(content.title)}</h1>"
        f'<p class="meta">{model}<br>run {escape(run.run_id)} · {_time(run.started)} · took {_duration(run.finished - run.started)}'
        f"{workflow}{log}{stopped}</p>"
    )


def _headline(content: ReportContent) -> str:
    rows = "".join(_figure_row(f) for f in content.figures)
    figures = f'<dl class="figures">{rows}</dl>' if rows else ""
    return f'<section class="headline {content.outcome}" id="headline"><p class="lead">{escape(content.headline)}</p>{figures}</section>'


def _figure_row(figure: Figure) -> str:
    metric = f'<span class="metric">by {escape(figure.metric)}</span>' if figure.metric else ""
    return f"<dt>{escape(figure.label)}</dt><dd>{escape(figure.text)}{metric}</dd>"


def _plot_section(content: ReportContent) -> str:
    plot = content.plot
    if plot is None:
        return '<h2>Candidates</h2><p class="muted">The run measured no metric: there is nothing to plot.</p>'
    missing = ""
    if plot.missing:
        failed = sum(why == "failed" for _, why in plot.missing)
        others = [f"#{index + 1} ({escape(why)})" for index, why in plot.missing if why != "failed"]
        parts = ([f"{failed} failed candidate{'s' if failed != 1 else ''}"] if failed else []) + others
        missing = f'<p class="muted" id="not-plotted">Not plotted: {", ".join(parts)}; the table lists them.</p>'
    return (
        f'<h2>Candidates on {escape(plot.why)}</h2>'
        f'<div id="scatter" role="img" aria-label="scatter of candidates"></div>{missing}'
        '<p class="muted">Each point is one candidate; click it to find its row below. '
        "The Pareto front holds the candidates no other one beats on every objective; dashed red lines are goals.</p>"
    )


def _table_section(content: ReportContent) -> str:
    metrics = content.metrics
    several_accelerators = len({r.accelerator for r in content.rows}) > 1
    headers = ["#", "result", *(m.key + (" ↓" if m.direction == "min" else " ↑") for m in metrics), *content.steps]
    if several_accelerators:
        headers.append("accelerator")
    head = "".join(f"<th scope=\"col\">{escape(h)}</th>" for h in headers)
    reference = ""
    if content.input_row is not None:
        reference = f'<tbody class="reference">{_row_html(content.input_row, metrics, content.steps, several_accelerators)}</tbody>'
    body = "".join(_row_html(row, metrics, content.steps, several_accelerators) for row in content.rows)
    legend = "↓ lower is better, ↑ higher is better; click a header to sort. Configs show the options that differ between candidates (open one for all)."
    failed = sum(row.status == "failed" for row in content.rows)
    toggle = (
        f'<label class="toggle"><input type="checkbox" id="hide-failed"> hide the {failed} failed candidate{"s" if failed != 1 else ""}</label>'
        if failed
        else ""
    )
    return (
        f"<h2>Every candidate ({len(content.rows)})</h2><p class=\"muted\">{escape(legend)} {toggle}</p>"
        f'<div class="table-wrap"><table class="sortable-table" id="candidates"><thead><tr>{head}</tr></thead>'
        f'{reference}<tbody class="sortable">{body}</tbody></table></div>'
    )


def _row_html(row: Row, metrics: list[Metric], steps: list[str], accelerator: bool) -> str:
    number = "input" if row.candidate < 0 else str(row.candidate + 1)
    cells = [
        f'<td data-sort="{row.candidate + 1 if row.candidate >= 0 else ""}">{number}</td>',
        f'<td class="result" data-sort="{escape(row.status)}">{_folded(row.result)}</td>',
    ]
    for metric in metrics:
        value = row.values.get(metric.key)
        goal = row.goals.get(metric.key)
        css, title = "num", ""
        if goal is not None:
            met, target = goal
            css += " goal-met" if met else " goal-missed"
            title = f' title="goal {"≤" if metric.direction == "min" else "≥"} {fmt(target)}: {"met" if met else "missed"}"'
        sort = repr(value) if value is not None and math.isfinite(value) else ""
        cells.append(f'<td class="{css}" data-sort="{sort}"{title}>{fmt(value) if value is not None else ""}</td>')
    for step in steps:
        summary, config = row.configs.get(step, ("", None)) if row.candidate >= 0 else ("", None)
        if config is None:
            cells.append(f'<td class="config" data-sort="{escape(summary)}">{escape(summary)}</td>')
        else:
            full = escape(json.dumps(config, indent=1, default=str))
            cells.append(f'<td class="config" data-sort="{escape(summary)}"><details><summary>{escape(summary)}</summary><pre>{full}</pre></details></td>')
    if accelerator:
        cells.append(f'<td data-sort="{escape(row.accelerator)}">{escape(row.accelerator)}</td>')
    ident = f' id="candidate-{row.candidate}"' if row.candidate >= 0 else ""
    return f'<tr{ident} class="status-{escape(row.status)}">{"".join(cells)}</tr>'


def _folded(text: str, shown: int = 80) -> str:
    """A long text (a failure's reason) as its beginning, the whole of it one click away."""
    if len(text) <= shown:
        return escape(text)
    return f"<details><summary>{escape(text[:shown].rstrip())}…</summary>{escape(text)}</details>"


def _lineage_section(content: ReportContent) -> str:
    if not content.lineage_title:
        return ""
    if not content.lineage:
        return f"<h2>{escape(content.lineage_title)}</h2><p class=\"muted\">No pass ran: the model is the input model.</p>"
    items = "".join(_step_html(step) for step in content.lineage)
    return f'<h2>{escape(content.lineage_title)}</h2><ol class="steps" id="lineage">{items}</ol>'


def _step_html(step: LineageStep) -> str:
    entry = step.entry
    if entry is None:
        return f"<li><h3>{step.number}. model {escape(step.model_id[:12])}</h3><p class=\"muted\">run.json holds no record of this step.</p></li>"
    how = "taken from the cache" if entry.status == "cached" else f"{escape(entry.status)} in {_duration(entry.seconds)}"
    if entry.attempts > 1:
        how += f" after {entry.attempts} attempts"
    if entry.used_fallback:
        how += ", with its fallback config"
    parts = [
        f"<h3>{step.number}. {escape(entry.step)} <span class=\"muted\">({escape(entry.pass_type)})</span></h3>",
        f'<p class="how">{how} · model {escape(entry.model_id[:12])}</p>',
    ]
    if entry.report:
        parts.append(f"<div class=\"report\"><strong>report</strong>{_kv_table(entry.report)}</div>")
    else:
        parts.append('<p class="muted">The pass reported nothing.</p>')
    if entry.config:
        parts.append(f"<details><summary>config</summary>{_kv_table(entry.config)}</details>")
    for warning in entry.warnings:
        parts.append(f'<p class="warning">warning: {escape(warning)}</p>')
    if entry.error:
        parts.append(f'<p class="error">error: {escape(entry.error)}</p>')
    return f"<li>{''.join(parts)}</li>"


def _kv_table(data: dict[str, Any], depth: int = 0) -> str:
    """A pass's report or config as nested key/value rows; long lists fold away."""
    rows = "".join(f"<tr><th scope=\"row\">{escape(str(key))}</th><td>{_value_html(value, depth)}</td></tr>" for key, value in data.items())
    return f'<table class="kv">{rows}</table>'


def _value_html(value: Any, depth: int) -> str:
    if isinstance(value, dict):
        if not value:
            return "{}"
        return _kv_table(value, depth + 1) if depth < 3 else f"<pre>{escape(json.dumps(value, indent=1, default=str))}</pre>"
    if isinstance(value, list):
        if not value:
            return "none"
        if all(not isinstance(v, dict | list) for v in value) and len(value) <= 12 and sum(len(str(v)) for v in value) < 200:
            return escape(", ".join(str(v) for v in value))
        lines = "\n".join(v if isinstance(v, str) else json.dumps(v, default=str) for v in value)
        return f"<details><summary>{len(value)} items</summary><pre>{escape(lines)}</pre></details>"
    if isinstance(value, float):
        return escape(fmt(value))
    return escape(json.dumps(value) if value is None or isinstance(value, bool) else str(value))


def _environment_section(content: ReportContent) -> str:
    run = content.run
    versions = run.versions
    rows: dict[str, str] = {
        "olive-core": escape(versions.olive_core or "unknown"),
        "plugins": escape(", ".join(f"{name} {version}" for name, version in versions.plugins.items() if name != "olive-core") or "none"),
        "libraries": escape(", ".join(f"{name} {version}" for name, version in versions.libraries.items()) or "none recorded"),
        "python": escape(versions.python),
        "platform": escape(versions.platform),
    }
    for accelerator in run.accelerators:
        simulated = " (simulated: its timings are not the device's)" if accelerator.get("simulated") else ""
        rows[f"accelerator {escape(str(accelerator.get('key', '')))}"] = escape(
            f"{accelerator.get('device', '')} via {accelerator.get('provider', '')} {accelerator.get('provider_version') or ''}".strip()
        ) + escape(simulated)
    cpu = run.cpu
    if cpu is None:
        rows["CPU"] = "not recorded by the olive-core that made this run"
    else:
        cores = f", {cpu.logical_cores} logical cores" if cpu.logical_cores else ""
        rows["CPU"] = escape(f"{cpu.model or 'unknown'} ({cpu.architecture or '?'}{cores})")
        if cpu.flags is None:
            rows["CPU flags"] = "not read on this platform"
        else:
            flags = "".join(f'<code class="{"key" if f in KEY_FLAGS else ""}">{escape(f)}</code>' for f in cpu.flags)
            rows["CPU flags"] = f'<span class="flags">{flags or "none of the SIMD flags olive records"}</span>'
    body = "".join(f"<tr><th scope=\"row\">{key}</th><td>{value}</td></tr>" for key, value in rows.items())
    return f'<h2>Where it ran</h2><table class="kv" id="environment">{body}</table>'


def _workflow_section(content: ReportContent) -> str:
    text = escape(json.dumps(content.run.workflow, indent=2, default=str))
    return f"<h2>Workflow</h2><details><summary>the workflow as run (values from variables are redacted)</summary><pre>{text}</pre></details>"
