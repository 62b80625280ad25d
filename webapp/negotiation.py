"""Content negotiation for `GET /`: HTML only for clients that prefer it; JSON for everyone else."""

from __future__ import annotations


def prefers_html(accept: str | None) -> bool:
    """True when the Accept header ranks text/html strictly above application/json.

    A browser (`text/html,...,*/*;q=0.8`) gets HTML; `*/*`, a missing header, or `application/json` get JSON.
    """
    if not accept:
        return False
    ranges = [_parse_range(part) for part in accept.split(",") if part.strip()]
    return _quality(ranges, "text", "html") > _quality(ranges, "application", "json")


def _parse_range(part: str) -> tuple[str, str, float]:
    media, *params = (piece.strip() for piece in part.split(";"))
    kind, _, subtype = media.lower().partition("/")
    quality = 1.0
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                quality = min(max(float(value), 0.0), 1.0)
            except ValueError:
                quality = 0.0
    return kind, subtype or "*", quality


def _quality(ranges: list[tuple[str, str, float]], kind: str, subtype: str) -> float:
    """The q of the most specific range matching kind/subtype (RFC 9110 §12.5.1); 0 when none matches."""
    best_specificity, best_quality = -1, 0.0
    for range_kind, range_subtype, quality in ranges:
        if range_kind == kind and range_subtype == subtype:
            specificity = 2
        elif range_kind == kind and range_subtype == "*":
            specificity = 1
        elif range_kind == "*" and range_subtype == "*":
            specificity = 0
        else:
            continue
        if specificity > best_specificity:
            best_specificity, best_quality = specificity, quality
    return best_quality
