"""Mapping files: how the tables of an ERP map onto the extract contract (docs/sources.md).

A mapping is YAML, checked against mappings/mapping.schema.json when it is read. Each
contract table it lists compiles to one SELECT over the source (`from`, `where`) that
returns the contract's columns as text, in the contract's names, plus `_source_key`,
the source record's key kept as lineage. The same SELECT runs in PostgreSQL for a
database and in DuckDB over a folder of files, so expressions must be SQL both
understand when a mapping serves both (the common part: casts, case, ||, coalesce).

Every value leaves the source as text: the loader reads every value as text anyway
(pipelines/loader/) and judges it against the contract, so a mapped value of
the wrong type is quarantined like a bad value in a file, never cast away here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import yaml

from pipelines.contract import TABLES, Column, Table
from pipelines.sql import quote_identifier, quote_literal

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "mappings" / "mapping.schema.json"

# The lineage column of a staged extract; the loader ignores columns outside the contract.
SOURCE_KEY = "_source_key"


class MappingError(ValueError):
    """A mapping cannot be used; the message names the file, the YAML line and the entry."""


@dataclass(frozen=True)
class MappedColumn:
    name: str  # the contract column
    expression: str  # SQL over the source row
    line: int  # where the YAML says it


@dataclass(frozen=True)
class MappedTable:
    contract: Table
    source: str  # the FROM clause
    key: str
    where: str | None
    updated: str | None
    columns: tuple[MappedColumn, ...]
    line: int
    file: Path | None  # None: the contract's own shape (no mapping)

    def expression(self, column: str) -> str:
        return next(mapped.expression for mapped in self.columns if mapped.name == column)

    def select_sql(self, extra_filter: str | None = None) -> str:
        """The contract columns as text, and the source key, of the rows passing `where`."""
        values = ", ".join(
            f"cast(({mapped.expression}) as varchar) as {quote_identifier(mapped.name)}"
            for mapped in self.columns
        )
        filters = [f"({condition})" for condition in (self.where, extra_filter) if condition]
        where = f" where {' and '.join(filters)}" if filters else ""
        return (
            f"select {values}, cast(({self.key}) as varchar) as {SOURCE_KEY} "
            f"from {self.source}{where}"
        )

    def place(self, column: str) -> str:
        """Where an entry is, for messages."""
        line = next((mapped.line for mapped in self.columns if mapped.name == column), self.line)
        return f"{self.file}, line {line}" if self.file else f"table {self.source}"


def contract_shape(table: str, source: str | None = None) -> MappedTable:
    """A source table in the contract's own shape (CONTRACT.md: same column names)."""
    contract = TABLES[table]
    return MappedTable(
        contract=contract,
        source=source or quote_identifier(table),
        key=" || '|' || ".join(
            f"cast({quote_identifier(name)} as varchar)" for name in contract.key
        ),
        where=None,
        updated=None,
        columns=tuple(MappedColumn(c.name, quote_identifier(c.name), 0) for c in contract.columns),
        line=0,
        file=None,
    )


def read_mapping(path: Path) -> dict[str, MappedTable]:
    """The mapped contract tables of a mapping file; MappingError names the line at fault."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise MappingError(f"cannot read the mapping {path}: {error.strerror}") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark else ""
        raise MappingError(
            f"{path}{where}: not YAML ({getattr(error, 'problem', error)})"
        ) from None
    if root is None:
        raise MappingError(f"{path}: the mapping is empty")
    lines: dict[tuple, int] = {}
    document = _plain(root, (), lines)
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    errors = sorted(
        jsonschema.Draft202012Validator(schema).iter_errors(document),
        # An unknown entry first: a misspelt `columns` is also a missing one.
        key=lambda error: (
            list(map(str, error.absolute_path)),
            error.validator != "additionalProperties" and not _names_a_key(error),
        ),
    )
    if errors:
        error = errors[0]
        at = tuple(error.absolute_path)
        if _names_a_key(error):
            at = (*at, error.instance)
        elif error.validator == "additionalProperties":
            known = error.schema.get("properties", {})
            at = (*at, next(name for name in error.instance if name not in known))
        line = _line_of(lines, at)
        entry = ".".join(map(str, at)) or "the mapping"
        raise MappingError(f"{path}, line {line}: {entry}: {_schema_message(error)}")
    return {
        table: _mapped_table(path, table, entry, lines)
        for table, entry in document["tables"].items()
    }


def _plain(node: yaml.Node, at: tuple, lines: dict[tuple, int]) -> object:
    """The node as Python values, noting the line of every entry under its path."""
    lines[at] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result = {}
        for key_node, value_node in node.value:
            key = key_node.value
            lines[(*at, key)] = key_node.start_mark.line + 1
            result[key] = _plain(value_node, (*at, key), lines)
            lines[(*at, key)] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_plain(item, (*at, index), lines) for index, item in enumerate(node.value)]
    return yaml.SafeLoader(" ").construct_object(node)


def _line_of(lines: dict[tuple, int], at: tuple) -> int:
    while at not in lines:
        at = at[:-1]
    return lines[at]


def _names_a_key(error: jsonschema.ValidationError) -> bool:
    """An error about a key of the object rather than a value (a table not in the contract)."""
    return "propertyNames" in error.schema_path


def _schema_message(error: jsonschema.ValidationError) -> str:
    if _names_a_key(error):
        return f"{error.instance!r} is not a contract table"
    if error.validator == "additionalProperties":
        return error.message.replace("Additional properties are not allowed", "unknown entry")
    if error.validator == "oneOf" and isinstance(error.instance, dict):
        return "give exactly one of column, sql or value (values goes with column or sql)"
    return error.message


def _mapped_table(path: Path, table: str, entry: dict, lines: dict[tuple, int]) -> MappedTable:
    contract = TABLES[table]
    at = ("tables", table)
    given = entry["columns"]
    unknown = [name for name in given if name not in contract.column_names]
    if unknown:
        line = lines[(*at, "columns", unknown[0])]
        raise MappingError(
            f"{path}, line {line}: {table}.{unknown[0]} is not a column of the contract table "
            f"{table}; its columns are {', '.join(contract.column_names)}"
        )
    columns = []
    for column in contract.columns:
        spec = given.get(column.name)
        if spec is None:
            if not column.nullable:
                raise MappingError(
                    f"{path}, line {lines[(*at, 'columns')]}: {table}.{column.name} is "
                    "required by the contract and the mapping does not give it "
                    "(column, sql or value)"
                )
            columns.append(MappedColumn(column.name, "null", lines[(*at, "columns")]))
            continue
        line = lines[(*at, "columns", column.name)]
        columns.append(MappedColumn(column.name, _expression(spec, column), line))
    return MappedTable(
        contract=contract,
        source=entry["from"],
        key=entry["key"],
        where=entry.get("where"),
        updated=entry.get("updated"),
        columns=tuple(columns),
        line=lines[at],
        file=path,
    )


def _expression(spec: str | dict, column: Column) -> str:
    if isinstance(spec, str):
        spec = {"column": spec}
    if "value" in spec:
        return _constant(spec["value"])
    base = spec["sql"] if "sql" in spec else _source_column(spec["column"])
    values = spec.get("values")
    if not values:
        return base
    # A value not listed passes unchanged: the contract check then quarantines it.
    cases = " ".join(
        f"when {quote_literal(str(source))} then {_constant(target)}"
        for source, target in values.items()
    )
    return f"case cast(({base}) as varchar) {cases} else cast(({base}) as varchar) end"


def _source_column(name: str) -> str:
    """`name` or `alias.name`, each part quoted."""
    return ".".join(quote_identifier(part) for part in name.split("."))


def _constant(value: str | float | bool) -> str:
    if isinstance(value, bool):
        return quote_literal("true" if value else "false")
    return quote_literal(str(value))
