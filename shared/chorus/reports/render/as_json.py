"""JSON: the data behind every other format, as ``Report.to_dict()`` gives it (UTF-8, not ASCII-escaped)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from chorus.reports.model import Report


def render_json(report: Report) -> bytes:
    return render_json_data(report.to_dict())


def render_json_data(data: Mapping[str, Any]) -> bytes:
    return json.dumps(_finite(dict(data)), ensure_ascii=False, indent=2).encode("utf-8")


def _finite(value: Any) -> Any:
    """NaN and infinities are not JSON: they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
