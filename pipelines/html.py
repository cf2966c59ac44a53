"""Every HTML page of Oasis comes from the jinja2 templates in pipelines/templates/, with
autoescape on: a customer called `<script>` prints as text. The one stylesheet
(templates/report.css) is included inline by base.html.j2, so each page stands alone.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATES = Path(__file__).parent / "templates"

_ENVIRONMENT = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def format_number(value: Any, decimals: int = 2) -> str:
    """Money with two decimals and thousands separators; counts as integers; a difference
    of -0.000000003 is no cent: 0.00, not -0.00."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    number = float(value)
    return f"{number + 0.0 if round(number, decimals) else 0.0:,.{decimals}f}"


def _percent(value: Any, decimals: int = 1) -> str:
    return "" if value is None else f"{float(value):.{decimals}%}"


_ENVIRONMENT.filters["number"] = format_number
_ENVIRONMENT.filters["percent"] = _percent


def render(template: str, **context: Any) -> str:
    return _ENVIRONMENT.get_template(template).render(**context)


def write_text(path: Path, text: str) -> None:
    """Written beside and renamed over, so a reader never sees half a file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
