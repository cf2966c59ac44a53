"""`oasis explain KEY`: how one P&L row's net profit was built, in words and numbers, or
what the latest as-of period says of a customer or a SKU.

A row id reads one row of marts.fct_invoice_line_pnl, its pool shares from the audit trail
(marts.fct_cost_allocations), and the facts behind its direct components. `customer:ID`
reads the customer's segment, quartile, policy flags, cross-sell and upsell
recommendations; `sku:SKU` the SKU's rank in its family, substitutes, return disposition
and reason alerts (the marts of MARTS.md, "The desert portal").
"""

from __future__ import annotations

from decimal import Decimal

import duckdb

KIND_NAMES = {
    "invoice": "an invoice line",
    "return": "a return (credit memo line)",
    "unattached": "service and sales work for a customer with no invoice line that period",
    "unallocated": "a cost pool whose driver had no units that period",
    "unused_capacity": "the cost of a pool's capacity that nobody used",
}


class UnknownRow(LookupError):
    pass


CUSTOMER_PREFIX = "customer:"
SKU_PREFIX = "sku:"


def explain(connection: duckdb.DuckDBPyConnection, key: str) -> str:
    """`key`: a P&L row id, `customer:<customer_id>` or `sku:<sku>`."""
    if key.startswith(CUSTOMER_PREFIX):
        return explain_customer(connection, key.removeprefix(CUSTOMER_PREFIX))
    if key.startswith(SKU_PREFIX):
        return explain_sku(connection, key.removeprefix(SKU_PREFIX))
    return explain_row(connection, key)


def explain_customer(connection: duckdb.DuckDBPyConnection, customer_id: str) -> str:
    flags = _one(
        connection,
        """
        select * from marts.customer_policy_flags
        where customer_id = ?
        order by as_of_period desc limit 1
        """,
        [customer_id],
    )
    if flags is None:
        raise UnknownRow(f"no customer {customer_id!r} in marts.customer_policy_flags")
    period = flags["as_of_period"]
    set_flags = [name for name, value in flags.items() if name.startswith("is_") and value]
    lines = [
        f"customer {customer_id}, as of {period}: {flags['segment']}, "
        f"quartile {flags['quartile']}, recommended action {flags['recommended_action']}",
        f"  flags: {', '.join(set_flags) or 'none'}",
        f"  why: {flags['reasons']}",
        "",
        "cross-sell (family, rank, because of, confidence, lift):",
    ]
    cross_sell = _all(
        connection,
        """
        select product_family, recommendation_rank, because_of_family, confidence, lift
        from marts.cross_sell_recommendations
        where customer_id = ? and as_of_period = ?
        order by recommendation_rank
        """,
        [customer_id, period],
    )
    lines += [
        f"  {row['recommendation_rank']}. {row['product_family']}, because of "
        f"{row['because_of_family']} (confidence {_number(row['confidence'])}, "
        f"lift {_number(row['lift'])})"
        for row in cross_sell
    ] or ["  none"]
    lines += ["", "upsell (current sku -> recommended sku, profit per unit gained):"]
    upsell = _all(
        connection,
        """
        select product_family, current_sku, recommended_sku, profit_per_unit_gain
        from marts.upsell_recommendations
        where customer_id = ? and as_of_period = ?
        order by profit_per_unit_gain desc, product_family
        """,
        [customer_id, period],
    )
    lines += [
        f"  {row['product_family']}: {row['current_sku']} -> {row['recommended_sku']}, "
        f"+{_money(row['profit_per_unit_gain'])} per unit"
        for row in upsell
    ] or ["  none"]
    return "\n".join(lines)


def explain_sku(connection: duckdb.DuckDBPyConnection, sku: str) -> str:
    ranking = _one(
        connection,
        "select * from marts.product_rankings where sku = ? order by as_of_period desc limit 1",
        [sku],
    )
    if ranking is None:
        raise UnknownRow(f"no SKU {sku!r} in marts.product_rankings")
    period = ranking["as_of_period"]
    lines = [
        f"sku {sku}, as of {period}: rank {ranking['rank_in_family']} in "
        f"{ranking['product_family']} (ranked by {ranking['ranked_by']})",
        _line("net profit per unit", ranking["net_profit_per_unit"], "all customers"),
        _line("in profit deserts", ranking["desert_net_profit_per_unit"], "desert customers only"),
        "",
        "substitutes (rank, sku, profit per unit difference, backorder rate):",
    ]
    substitutes = _all(
        connection,
        """
        select substitute_rank, substitute_sku, profit_per_unit_difference, backorder_rate
        from marts.product_substitutes
        where sku = ? and as_of_period = ?
        order by substitute_rank
        """,
        [sku, period],
    )
    lines += [
        f"  {row['substitute_rank']}. {row['substitute_sku']}: "
        f"{_money(row['profit_per_unit_difference'])} per unit, "
        f"backorder rate {_number(row['backorder_rate'])}"
        for row in substitutes
    ] or ["  none"]
    disposition = _one(
        connection,
        "select * from marts.return_dispositions where sku = ? and as_of_period = ?",
        [sku, period],
    )
    lines += ["", "returns:"]
    if disposition is None:
        lines.append("  no returns in the window")
    else:
        lines += [
            f"  {disposition['recommended_disposition']} returned units "
            f"({disposition['returns']} returns, rule at {disposition['rule_level']} level)",
            _line("handling per unit", disposition["handling_cost_per_unit"], "cost to restock"),
            _line("recovery per unit", disposition["recovery_per_unit"], "value recovered"),
            _line("saving per unit", disposition["saving_per_unit"], "of the recommendation"),
        ]
    alerts = _all(
        connection,
        """
        select reason_code, returns, rate_per_unit_sold, family_rate, ratio, likely_fix
        from marts.return_reason_alerts
        where sku = ? and as_of_period = ?
        order by ratio desc, reason_code
        """,
        [sku, period],
    )
    lines += [
        f"  alert {row['reason_code']}: {row['returns']} returns, "
        f"{_number(row['ratio'])} times the family's rate, likely fix: {row['likely_fix']}"
        for row in alerts
    ] or ["  no return reason alert"]
    return "\n".join(lines)


def explain_row(connection: duckdb.DuckDBPyConnection, row_id: str) -> str:
    row = _one(connection, "select * from marts.fct_invoice_line_pnl where row_id = ?", [row_id])
    if row is None:
        raise UnknownRow(
            f"no P&L row {row_id!r}; row ids look like invoice:<invoice_id>:<line>, "
            "return:<return_id>, unattached:<customer_id>:<period>, "
            "unallocated:<period>:<pool>, unused_capacity:<period>:<pool>"
        )
    lines = [
        f"{row_id}: {KIND_NAMES[row['row_kind']]}, period {row['period']}"
        + (f", customer {row['customer_id']}" if row["customer_id"] else "")
        + (f", sku {row['sku']}" if row["sku"] else ""),
        "",
    ]
    lines += _direct_components(connection, row)
    lines += _pool_shares(connection, row)
    lines += [
        "",
        f"net profit = {_money(row['net_revenue'])} + {_money(row['freight_revenue'])} "
        f"+ {_money(row['expedite_revenue'])} + {_money(row['restocking_fee_revenue'])} "
        f"- {_money(row['cogs'])} - {_money(row['freight_cost'])} "
        f"- {_money(row['pool_cost_total'])} - {_money(row['carrying_cost'])} "
        f"- {_money(row['bad_debt'])} = {_money(row['net_profit'])}",
    ]
    return "\n".join(lines)


def _direct_components(connection: duckdb.DuckDBPyConnection, row: dict) -> list[str]:
    if row["row_kind"] == "invoice":
        facts = _one(
            connection,
            """
            select
                lines.quantity, lines.unit_list_price, lines.unit_price, lines.unit_cost,
                products.standard_cost, invoices.freight_charged, invoices.expedite_charged,
                invoices.invoice_date, settled.days_to_pay, settled.is_settled,
                settled.amount_written_off
            from staging.stg_erp__invoice_lines as lines
            inner join staging.stg_erp__invoices as invoices using (invoice_id)
            inner join staging.stg_erp__products as products using (sku)
            inner join intermediate.int_invoices_settled as settled using (invoice_id)
            where lines.invoice_id = ? and lines.line_number = ?
            """,
            [row["invoice_id"], row["line_number"]],
        )
        cost_source = "unit_cost" if facts["unit_cost"] is not None else "standard cost"
        unit_cost = facts["unit_cost"] if facts["unit_cost"] is not None else facts["standard_cost"]
        payment = (
            f"settled (paid or credited) {facts['days_to_pay']} days after the invoice date"
            if facts["is_settled"]
            else f"unpaid at the as-of date, {facts['days_to_pay']} days after the invoice date"
        )
        return [
            "Revenue",
            _line(
                "gross revenue",
                row["gross_revenue"],
                f"{_number(facts['quantity'])} x list price {_money(facts['unit_list_price'])}",
            ),
            _line(
                "discount",
                row["discount"],
                f"{_number(facts['quantity'])} x ({_money(facts['unit_list_price'])} "
                f"- {_money(facts['unit_price'])})",
            ),
            _line(
                "net revenue",
                row["net_revenue"],
                f"{_number(facts['quantity'])} x price {_money(facts['unit_price'])}",
            ),
            _line(
                "freight revenue",
                row["freight_revenue"],
                f"this line's weight share of {_money(facts['freight_charged'])} charged",
            ),
            _line(
                "expedite revenue",
                row["expedite_revenue"],
                f"an equal share of {_money(facts['expedite_charged'])} charged",
            ),
            "Costs",
            _line(
                "cost of goods",
                row["cogs"],
                f"{_number(facts['quantity'])} x {_money(unit_cost)} ({cost_source})",
            ),
            _line(
                "freight cost",
                row["freight_cost"],
                "this line's weight share of the invoice's shipment costs",
            ),
            _line(
                "carrying cost",
                row["carrying_cost"],
                f"net revenue x cost of capital x {facts['days_to_pay']} / 365; {payment}",
            ),
            _line(
                "bad debt",
                row["bad_debt"],
                f"net revenue share of {_money(facts['amount_written_off'])} written off",
            ),
        ]
    if row["row_kind"] == "return":
        facts = _one(
            connection,
            "select quantity, credit_amount, disposition, restocking_fee_charged "
            "from staging.stg_erp__returns where return_id = ?",
            [row["return_id"]],
        )
        return [
            f"Return of {_number(facts['quantity'])} from invoice {row['invoice_id']} "
            f"line {row['line_number']}, disposition {facts['disposition']}",
            _line(
                "net revenue",
                row["net_revenue"],
                f"minus the credit of {_money(facts['credit_amount'])}",
            ),
            _line("restocking fee", row["restocking_fee_revenue"], "charged to the customer"),
            _line(
                "cost of goods",
                row["cogs"],
                "the returned units' cost, reversed because they were restocked"
                if facts["disposition"] == "restock"
                else f"none: the goods were not restocked ({facts['disposition']})",
            ),
        ]
    return []


def _pool_shares(connection: duckdb.DuckDBPyConnection, row: dict) -> list[str]:
    shares = connection.execute(
        """
        select pool, driver, driver_units, rate, amount, variable_amount, fixed_amount
        from marts.fct_cost_allocations
        where row_id = ?
        order by amount desc, pool
        """,
        [row["row_id"]],
    ).fetchall()
    lines = ["Cost pools (rate x driver units)"]
    for pool, driver, units, rate, amount, variable, fixed in shares:
        if rate is None:
            how = f"the whole pool: its driver {driver} had no units this period"
        elif row["row_kind"] == "unused_capacity":
            how = f"idle {driver} {_number(units)} x rate {rate:,.6f}"
        else:
            how = f"{driver} {_number(units)} x rate {rate:,.6f}"
        lines.append(
            _line(pool, amount, f"{how}; variable {_money(variable)}, fixed {_money(fixed)}")
        )
    if not shares:
        lines.append("  none: this row used no driver of any pool")
    lines.append(
        _line(
            "total pool cost",
            row["pool_cost_total"],
            f"variable {_money(row['pool_cost_variable'])}, fixed {_money(row['pool_cost_fixed'])}",
        )
    )
    return lines


def _one(connection: duckdb.DuckDBPyConnection, sql: str, parameters: list) -> dict | None:
    cursor = connection.execute(sql, parameters)
    values = cursor.fetchone()
    if values is None:
        return None
    return dict(zip([column[0] for column in cursor.description], values, strict=True))


def _all(connection: duckdb.DuckDBPyConnection, sql: str, parameters: list) -> list[dict]:
    """A handful of rows of one customer or SKU (a few recommendations, substitutes)."""
    cursor = connection.execute(sql, parameters)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def _line(label: str, amount: Decimal | float, how: str) -> str:
    return f"  {label:<24} {_money(amount):>14}   {how}"


def _money(amount: Decimal | float | None) -> str:
    return "-" if amount is None else f"{amount:,.2f}"


def _number(value: Decimal | float) -> str:
    return f"{value:,.4f}".rstrip("0").rstrip(".")
