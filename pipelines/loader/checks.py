"""The contract checks of a load: every problem found becomes a row of the problems table
with the record's file, row and column and the reason the quarantine shows.

Kept apart from reading and writing so that what a record must satisfy to load has one
home. Checks, in this order:
 0. CSV line that cannot be parsed (found while reading, listed here)
 1. missing required value      5. duplicate key within one file
 2. wrong type, a NUL byte      6. foreign key that points nowhere
 3. value outside the domain    7. returns: more returned than the line sold
 4. row rules of the contract   8. invoices: a second currency
Checks 1-4 judge each record on its own and report every problem they find. Checks
5, 6 and 8 run on the records that passed 1-4 and report independently (a record with
a wrong type is not also reported as a duplicate, but a duplicate can also be a
dangling foreign key). The company currency, unless given, is the most frequent one
among the records that passed 1-6. Check 7 runs last, after the newest file won
(writing.py), on the kept returns only, because an older version of a return must not
count twice; a kept return that fails it goes to quarantine and its older versions stay
superseded.
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb

from pipelines.contract import Column, ForeignKey, Table
from pipelines.loader.working_tables import (
    MALFORMED,
    PARSED,
    PROBLEMS,
    RECORD_PERIODS,
    SUPERSEDED,
    VALID,
    column_list,
    in_periods,
)
from pipelines.sql import quote_identifier as _ident
from pipelines.sql import quote_literal as _literal

# A date may carry a midnight time: pandas writes dates to Parquet as timestamps.
_ISO_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}([ T]00:00(:00(\.0+)?)?)?"

# No time zone offset: DuckDB would drop it silently when casting to timestamp.
_ISO_TIMESTAMP = r"[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?"
_EXPECTED = {
    "integer": "integer without a fraction",
    "decimal": "decimal(18, 6): at most 12 digits before and 6 after the point",
    "date": "ISO-8601 date YYYY-MM-DD",
    "timestamp": "ISO-8601 timestamp YYYY-MM-DD HH:MM:SS without time zone",
    "boolean": "boolean (true/false, t/f, yes/no, y/n, 1/0)",
}


def find_record_problems(con: duckdb.DuckDBPyConnection, contract: Table) -> None:
    con.execute(
        f"""
        create or replace temp table {PROBLEMS} (
            _file_rank integer, _source_row bigint, column_name varchar, reason varchar
        )
        """
    )
    checks = [_record_problems_select(contract)]
    checks += [_row_rule_select(contract, *rule) for rule in contract.row_rules]
    checks.append(f"select _file_rank, _source_row, 'csv_line', reason from {MALFORMED}")
    con.execute(f"insert into {PROBLEMS} {' union all '.join(checks)}")


def _record_checks(contract: Table) -> Iterator[tuple[str, str, str]]:
    """(column, condition over the text values that flags a problem, reason)."""
    for column in contract.columns:
        name = _ident(column.name)
        if not column.nullable:
            yield column.name, f"{name} is null", "missing required value"
        # Parquet and CSV both carry NUL bytes into text; no ERP value holds one.
        yield column.name, f"contains({name}, chr(0))", "NUL byte in the value"
        if column.type != "text":
            yield (
                column.name,
                f"{name} is not null and not coalesce({is_valid_sql(column)}, false)",
                f"wrong type: expected {_EXPECTED[column.type]}",
            )
        if column.domain:
            allowed = ", ".join(_literal(value) for value in column.domain)
            yield (
                column.name,
                f"{name} not in ({allowed})",
                f"value outside domain: expected one of {', '.join(column.domain)}",
            )


def is_valid_sql(column: Column) -> str:
    """True when the text value is a lossless value of the column's type.

    DuckDB's casts round ('1.5' -> bigint 2, '1.1234567' -> decimal 1.123457) and
    accept non-ISO dates ('2024/01/02'); the contract wants those rejected. Comparing
    with a wider cast rejects only what would change: '1.5000000' passes.
    """
    name = _ident(column.name)
    typed = f"try_cast({name} as {column.warehouse_type})"
    if column.type == "integer":
        return f"try_cast({name} as decimal(38, 18)) = {typed}"
    if column.type == "decimal":
        return f"try_cast({name} as decimal(38, 20)) = {typed}"
    if column.type in ("date", "timestamp"):
        pattern = _ISO_DATE if column.type == "date" else _ISO_TIMESTAMP
        return f"regexp_full_match(trim({name}), {_literal(pattern)}) and {typed} is not null"
    return f"{typed} is not null"


def _record_problems_select(contract: Table) -> str:
    """Checks 1-3 in one scan of the records: each record's list of the problems it has,
    unnested. One select per check read the records 24 times for the invoice lines."""
    problems = ", ".join(
        f"case when {condition} then "
        f"{{'column_name': {_literal(column)}, 'reason': {_literal(reason)}}} end"
        for column, condition, reason in _record_checks(contract)
    )
    return f"""
        select _file_rank, _source_row, problem.column_name, problem.reason
        from (
            select _file_rank, _source_row,
                unnest(list_filter([{problems}], lambda p: p is not null)) as problem
            from {PARSED}
        )
    """


def _row_rule_select(contract: Table, predicate: str, column: str, reason: str) -> str:
    """A rule judged on typed values, like SQL's check constraints: null passes.

    A value of the wrong type counts as null here, so a rule does not trip over a
    value that check 2 already reported (a rounded '0.0000001' is not 'above zero').
    """
    typed = ", ".join(
        f"case when {is_valid_sql(c)} then try_cast({_ident(c.name)} as {c.warehouse_type}) "
        f"end as {_ident(c.name)}"
        if c.type != "text"
        else _ident(c.name)
        for c in contract.columns
    )
    return (
        f"select _file_rank, _source_row, {_literal(column)}, {_literal(reason)} "
        f"from (select _file_rank, _source_row, {typed} from {PARSED}) "
        f"where not coalesce(({predicate}), true)"
    )


def keep_valid_records(con: duckdb.DuckDBPyConnection, contract: Table) -> None:
    typed = ", ".join(
        f"try_cast({_ident(c.name)} as {c.warehouse_type}) as {_ident(c.name)}"
        for c in contract.columns
    )
    con.execute(
        f"""
        create or replace temp table {VALID} as
        select _file_rank, _source_row, {typed}
        from {PARSED} as s
        where {has_no_problem("s")}
        """
    )


def has_no_problem(alias: str) -> str:
    return _not_listed_in(PROBLEMS, alias)


def is_kept(alias: str) -> str:
    """The record goes to raw.<table>: no problem, and no newer file replaced it."""
    return f"{_not_listed_in(PROBLEMS, alias)} and {_not_listed_in(SUPERSEDED, alias)}"


def _not_listed_in(records: str, alias: str) -> str:
    return (
        f"not exists (select 1 from {records} as listed where listed._file_rank = "
        f"{alias}._file_rank and listed._source_row = {alias}._source_row)"
    )


def find_duplicate_keys(con: duckdb.DuckDBPyConnection, contract: Table) -> None:
    key = ", ".join(_ident(name) for name in contract.key)
    con.execute(
        f"""
        insert into {PROBLEMS}
        select v._file_rank, v._source_row, ?, ?
        from {VALID} as v
        join (
            select _file_rank, {key} from {VALID} group by all having count(*) > 1
        ) as duplicated using (_file_rank, {key})
        """,
        [column_list(contract.key), f"duplicate key ({column_list(contract.key)}) in one file"],
    )


def find_dangling_foreign_keys(con: duckdb.DuckDBPyConnection, contract: Table) -> None:
    for foreign_key in contract.foreign_keys:
        con.execute(
            f"""
            insert into {PROBLEMS}
            select v._file_rank, v._source_row, ?, ?
            from {VALID} as v
            where {_all_present("v", foreign_key.columns)}
              and not exists (
                select 1 from raw.{_ident(foreign_key.table)} as parent
                where {_join_condition(foreign_key)}
              )
            """,
            [
                column_list(foreign_key.columns),
                f"foreign key points nowhere: no {foreign_key.table} row with "
                f"{column_list(foreign_key.table_columns)} equal to this value",
            ],
        )


def _all_present(alias: str, columns: tuple[str, ...]) -> str:
    # A null reference points at nothing and is not a foreign key error.
    return " and ".join(f"{alias}.{_ident(name)} is not null" for name in columns)


def _join_condition(foreign_key: ForeignKey) -> str:
    return " and ".join(
        f"parent.{_ident(parent_column)} = v.{_ident(column)}"
        for column, parent_column in zip(
            foreign_key.columns, foreign_key.table_columns, strict=True
        )
    )


def find_second_currencies(con: duckdb.DuckDBPyConnection, company_currency: str | None) -> None:
    """Money is in one currency per company; rows in any other one are quarantined."""
    currency = company_currency or _most_frequent_currency(con)
    if currency is None:
        return
    con.execute(
        f"""
        insert into {PROBLEMS}
        select _file_rank, _source_row, 'currency',
            'mixed currencies: ' || currency || ', company currency is ' || $company
        from {VALID}
        where currency <> $company
        """,
        {"company": currency},
    )


def _most_frequent_currency(con: duckdb.DuckDBPyConnection) -> str | None:
    row = con.execute(
        f"""
        select currency from {VALID} as v
        where {has_no_problem("v")}
        group by currency
        order by count(*) desc, currency
        limit 1
        """
    ).fetchone()
    return None if row is None else row[0]


def find_over_returns(con: duckdb.DuckDBPyConnection, periods: tuple[str, ...] | None) -> None:
    """A return may not take back more than the line sold minus the earlier accepted returns.

    Walks each line's returns in order (return_date, return_id), all lines at once:
    one step per return of the busiest line. A return over the limit is not added to
    the running total, so it does not condemn the returns after it. A period load
    judges its own returns only; the accepted returns of the other periods, from
    raw.returns, are settled and always count.
    """
    settled = ""
    if periods is not None:
        settled = f"""
            union all
            select null, null, o.invoice_id, o.line_number, o.return_date, o.return_id,
                o.quantity, true
            from raw.returns as o
            join (select distinct invoice_id, line_number from judged) as judged_line
                using (invoice_id, line_number)
            where not {in_periods("o._period", periods)}
              and o.return_id not in (select return_id from judged)
        """
    con.execute(
        f"""
        insert into {PROBLEMS}
        with recursive judged as (
            select r._file_rank, r._source_row, r.invoice_id, r.line_number, r.return_date,
                r.return_id, r.quantity, false as is_settled
            from {VALID} as r
            join {RECORD_PERIODS} as p using (_file_rank, _source_row)
            where p._in_scope and {is_kept("r")}
        ),
        ordered as (
            select
                x.*,
                line.quantity as sold,
                row_number() over (
                    partition by x.invoice_id, x.line_number order by x.return_date, x.return_id
                ) as return_order
            from (select * from judged {settled}) as x
            join raw.invoice_lines as line using (invoice_id, line_number)
        ),
        walk as (
            select
                _file_rank, _source_row, invoice_id, line_number, return_order,
                not is_settled and quantity > sold as is_over,
                case when not is_settled and quantity > sold then 0 else quantity end as returned
            from ordered
            where return_order = 1
            union all
            select
                o._file_rank, o._source_row, o.invoice_id, o.line_number, o.return_order,
                not o.is_settled and w.returned + o.quantity > o.sold,
                w.returned + case
                    when not o.is_settled and w.returned + o.quantity > o.sold then 0
                    else o.quantity
                end
            from walk as w
            join ordered as o
                on o.invoice_id = w.invoice_id
                and o.line_number = w.line_number
                and o.return_order = w.return_order + 1
        )
        select _file_rank, _source_row, 'quantity',
            'return exceeds what the invoice line sold minus earlier returns'
        from walk
        where is_over
        """
    )
