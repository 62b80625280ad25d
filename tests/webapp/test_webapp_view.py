"""The pure views: JSON document, HTML page, bar chart, content negotiation."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from webapp.chart import CURRENT, calls_chart_svg, chart_order
from webapp.negotiation import prefers_html
from webapp.store.base import Deploy, State
from webapp.view import state_document, state_page

A = Deploy("1.0.41-9be07d2", "e145056043e1", datetime(2026, 11, 25, 9, 0, 5, 900000, tzinfo=UTC))
B = Deploy("1.0.42-3f2a1bc", "e145056043e1", datetime(2026, 11, 26, 10, 26, 18, 250000, tzinfo=UTC))
STATE = State(calls_by_version={"1.0.41-9be07d2": 250, "1.0.42-3f2a1bc": 27}, deploys=(B, A))


def test_json_document_matches_the_contract_example() -> None:
    assert state_document(STATE, "1.0.42-3f2a1bc", "e145056043e1") == {
        "version": "1.0.42-3f2a1bc",
        "hostname": "e145056043e1",
        "calls": 277,
        "calls_by_version": {"1.0.41-9be07d2": 250, "1.0.42-3f2a1bc": 27},
        "deploys": [
            {"version": "1.0.42-3f2a1bc", "hostname": "e145056043e1", "deployed_at": "2026-11-26T10:26:18Z"},
            {"version": "1.0.41-9be07d2", "hostname": "e145056043e1", "deployed_at": "2026-11-25T09:00:05Z"},
        ],
    }


def test_json_document_of_an_empty_store() -> None:
    document = state_document(State(), "dev", "h")
    assert (document["calls"], document["calls_by_version"], document["deploys"]) == (0, {}, [])


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_html_page_shows_what_the_json_holds() -> None:
    page = state_page(STATE, "1.0.42-3f2a1bc", "e145056043e1")
    text = _text(page)
    assert page.startswith("<!doctype html>")
    assert 'id="version">1.0.42-3f2a1bc<' in page
    assert 'id="hostname">e145056043e1<' in page
    assert 'id="calls">277<' in page
    assert "1.0.41-9be07d2 e145056043e1 2026-11-25T09:00:05Z" in text
    assert text.index("1.0.42-3f2a1bc e145056043e1 2026-11-26T10:26:18Z") < text.index("1.0.41-9be07d2 e14")
    assert "<svg" in page and "250 calls" in page and "27 calls" in page


def test_html_page_uses_no_script_and_no_external_resource() -> None:
    page = state_page(STATE, "1.0.42-3f2a1bc", "e145056043e1").lower()
    assert "<script" not in page
    assert not re.search(r"(src|href)\s*=", page)
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")


def test_everything_shown_is_escaped() -> None:
    evil = '<script>alert("v")</script>'
    host = "<img src=x onerror=alert(1)>"
    state = State(calls_by_version={evil: 3}, deploys=(Deploy(evil, host, B.deployed_at),))
    page = state_page(state, evil, host)
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(&quot;v&quot;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_chart_bars_run_from_oldest_deploy_to_newest_and_mark_the_current_version() -> None:
    state = State(
        calls_by_version={"1.0.42-3f2a1bc": 27, "0.9.0": 5, "1.0.41-9be07d2": 250},
        deploys=(B, A),  # 0.9.0 fell out of the ten newest deploys
    )
    assert chart_order(state) == ["0.9.0", "1.0.41-9be07d2", "1.0.42-3f2a1bc"]
    svg = calls_chart_svg(state, current_version="1.0.42-3f2a1bc")
    widths = [int(w) for w in re.findall(r'<rect [^>]*width="(\d+)"', svg)]
    assert widths[1] == max(widths) and widths[0] < widths[2] < widths[1]
    fills = re.findall(r'fill="(#[0-9a-f]{6})"', svg)
    assert fills.count(CURRENT) == 1 and fills[2] == CURRENT


def test_chart_of_no_calls_says_so() -> None:
    assert "no calls yet" in calls_chart_svg(State(), current_version="dev")


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8", True),
        ("text/html", True),
        ("text/*", True),
        ("text/html;q=0.9, application/json;q=0.5", True),
        (None, False),
        ("", False),
        ("*/*", False),
        ("application/json", False),
        ("application/json, text/html", False),
        ("text/html;q=0.5, application/json", False),
        ("text/html;q=0, */*", False),
        ("text/plain", False),
        ("text/html;q=bogus", False),
    ],
)
def test_html_only_for_clients_that_prefer_it(accept: str | None, html: bool) -> None:
    assert prefers_html(accept) is html
