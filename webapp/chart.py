"""The calls-by-version bar chart as inline SVG: no JavaScript, no external resources."""

from __future__ import annotations

from html import escape

from webapp.store.base import State

WIDTH = 460
ROW = 30
LABEL_WIDTH = 170
BAR_SPACE = WIDTH - LABEL_WIDTH - 70
LABEL_CHARS = 22
CURRENT = "#2f6f4f"
OTHER = "#7d95b8"


def calls_chart_svg(state: State, current_version: str) -> str:
    """One horizontal bar per version, oldest deploy at the top, so the shift of traffic reads downwards."""
    versions = chart_order(state)
    if not versions:
        return '<p class="empty">no calls yet</p>'
    most = max(state.calls_by_version[v] for v in versions) or 1
    height = ROW * len(versions) + 10
    bars = []
    for row, version in enumerate(versions):
        count = state.calls_by_version[version]
        y = 5 + row * ROW
        width = max(round(BAR_SPACE * count / most), 1)
        label = version if len(version) <= LABEL_CHARS else version[: LABEL_CHARS - 1] + "\u2026"
        fill = CURRENT if version == current_version else OTHER
        bars.append(
            f"<g><title>{escape(version)}: {count} calls</title>"
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 19}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y + 4}" width="{width}" height="{ROW - 8}" rx="3" fill="{fill}"/>'
            f'<text x="{LABEL_WIDTH + width + 6}" y="{y + 19}">{count}</text></g>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="system-ui, sans-serif" font-size="13">'
        f"<title>Calls by version</title>{''.join(bars)}</svg>"
    )


def chart_order(state: State) -> list[str]:
    """Versions with calls: those no longer in the deploy history first (by name), then by deploy time."""
    deployed = [d.version for d in reversed(state.deploys) if d.version in state.calls_by_version]
    older = sorted(set(state.calls_by_version) - set(deployed))
    return older + deployed
