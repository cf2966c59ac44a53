"""Quoting for SQL text that DuckDB cannot take as a parameter: names (of tables, columns)
and values inside SQL that is itself stored or composed, such as a view's definition or a
check built from the contract. Everything else, paths above all, goes as a `?` parameter.
A path such as `/data/o'Brien/` then never ends a string literal early."""

from __future__ import annotations


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
