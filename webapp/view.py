"""What `GET /` answers: pure functions of (stored state, this instance's version, its host name)."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any

from webapp.chart import calls_chart_svg
from webapp.store.base import State


def state_document(state: State, version: str, hostname: str) -> dict[str, Any]:
    """The JSON body of `GET /` (contract §1)."""
    return {
        "version": version,
        "hostname": hostname,
        "calls": state.calls,
        "calls_by_version": dict(sorted(state.calls_by_version.items())),
        "deploys": [
            {"version": d.version, "hostname": d.hostname, "deployed_at": timestamp(d.deployed_at)}
            for d in state.deploys
        ],
    }


def timestamp(at: datetime) -> str:
    """`2026-11-26T10:26:18Z`: UTC, whole seconds."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def state_page(state: State, version: str, hostname: str) -> str:
    """The HTML page of `GET /`: the same information as the JSON; every stored or configured text escaped."""
    rows = "\n".join(
        f"<tr><td>{escape(d.version)}</td><td>{escape(d.hostname)}</td>"
        f'<td><time datetime="{timestamp(d.deployed_at)}">{timestamp(d.deployed_at)}</time></td></tr>'
        for d in state.deploys
    )
    if not rows:
        rows = '<tr><td colspan="3">no deploys recorded yet</td></tr>'
    return PAGE.format(
        version=escape(version),
        hostname=escape(hostname),
        calls=state.calls,
        chart=calls_chart_svg(state, current_version=version),
        deploy_rows=rows,
    )


PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>deliverypipeline \u00b7 {version}</title>
<style>
  body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #1d2430; background: #f7f8fa; }}
  header {{ border-bottom: 4px solid #c5cfdb; margin-bottom: 1.5rem; }}
  h1 {{ margin: 0 0 .3rem; font-size: 1.8rem; }}
  h2 {{ font-size: 1.1rem; margin: 0 0 .8rem; }}
  .facts {{ display: flex; gap: 2.5rem; margin: .5rem 0 1rem; }}
  .facts dt {{ font-size: .8rem; text-transform: uppercase; color: #5b6472; }}
  .facts dd {{ margin: 0; font-size: 1.3rem; font-weight: 600; word-break: break-all; }}
  main {{ display: flex; flex-wrap: wrap; gap: 2rem; align-items: flex-start; }}
  section {{ background: #fff; border: 1px solid #d8dce3; border-radius: 6px; padding: 1rem 1.2rem; }}
  table {{ border-collapse: collapse; }}
  th, td {{ text-align: left; padding: .35rem .9rem .35rem 0; border-bottom: 1px solid #e6e9ee; }}
  th {{ font-size: .8rem; text-transform: uppercase; color: #5b6472; }}
  td {{ word-break: break-all; }}
  figure {{ margin: 0; }}
  figcaption {{ font-size: .8rem; color: #5b6472; margin-top: .4rem; }}
</style>
</head>
<body>
<header>
<h1>deliverypipeline</h1>
<dl class="facts">
  <div><dt>Version</dt><dd id="version">{version}</dd></div>
  <div><dt>Host</dt><dd id="hostname">{hostname}</dd></div>
  <div><dt>Calls</dt><dd id="calls">{calls}</dd></div>
</dl>
</header>
<main>
<section class="deploys">
<h2>Deploy history</h2>
<table>
<thead><tr><th>Version</th><th>Host</th><th>Deployed at (UTC)</th></tr></thead>
<tbody>
{deploy_rows}
</tbody>
</table>
</section>
<section class="calls">
<h2>Calls by version</h2>
<figure>
{chart}
<figcaption>All calls since the first deploy, by the version that served them.</figcaption>
</figure>
</section>
</main>
</body>
</html>
"""
