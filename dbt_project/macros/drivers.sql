{#- The cost drivers of METHOD.md, "Cost pools and drivers", in the seed's sort_order
    (seeds/cost_drivers.csv, their one home): those whose units are measured on `on_rows`
    (invoice, return, invoice_or_unattached) when it is given. -#}
{% macro cost_drivers(on_rows=none) -%}
    {%- set condition = "on_rows = '" ~ on_rows ~ "'" if on_rows is not none else 'true' -%}
    {{ return(cost_drivers_query(
        'select driver from {relation} where ' ~ condition ~ ' order by sort_order'
    )) }}
{%- endmacro %}

{#- The cost-to-serve components the seed maps the drivers to, in the order of their
    first driver: one `<component>_cost` column each in
    int_customer_cost_to_serve_by_period, customer_profitability and price_waterfall. -#}
{% macro cost_components() -%}
    {{ return(cost_drivers_query(
        'select cost_component from {relation} group by cost_component order by min(sort_order)'
    )) }}
{%- endmacro %}

{#- The first column of `sql` over the seed cost_drivers, as a list: the models that
    call it generate one column per value when they compile, so it is read then, as
    dbt_utils.get_column_values reads a table. At parse time (nothing is built yet) the
    list is empty, and the ref records that every caller depends on the seed, so that
    `dbt build` loads it first. The table is read where it is, not through ref(): with
    `--empty` ref() reads no rows, and in a unit test it names the test's fixture, which is
    no table. -#}
{% macro cost_drivers_query(sql) -%}
    {%- if not execute -%}
        {%- do ref('cost_drivers') -%}
        {{ return([]) }}
    {%- endif -%}
    {{ return(run_query(sql | replace('{relation}', cost_drivers_relation() | string)).columns[0].values() | list) }}
{%- endmacro %}

{#- Where the seed cost_drivers is: its node in the graph says; a unit test's context has
    no graph (only macros and fixtures), so there the warehouse's catalogue does. Before
    the seed is loaded (sqlfluff's in-memory warehouse) DuckDB reads the seed's file. -#}
{% macro cost_drivers_relation() -%}
    {%- set seeds = graph.get('nodes', {}).values()
        | selectattr('resource_type', 'equalto', 'seed')
        | selectattr('name', 'equalto', 'cost_drivers') | list -%}
    {%- if not seeds -%}
        {%- set found = run_query(
            "select table_schema from information_schema.tables where table_name = 'cost_drivers'"
            ~ " and table_catalog = '" ~ target.database ~ "'"
        ).columns[0].values() -%}
        {%- if found | length != 1 -%}
            {{ exceptions.raise_compiler_error(
                "Found the seed cost_drivers in " ~ found | length ~ " schemas of " ~ target.database
                ~ " (one expected): run `dbt seed` first."
            ) }}
        {%- endif -%}
        {{ return(api.Relation.create(database=target.database, schema=found[0], identifier='cost_drivers')) }}
    {%- endif -%}
    {%- set seed = seeds[0] -%}
    {%- set relation = adapter.get_relation(
        database=seed.database, schema=seed.schema, identifier=seed.alias
    ) -%}
    {%- if relation is not none -%}
        {{ return(relation) }}
    {%- elif target.type == 'duckdb' -%}
        {{ return("read_csv('" ~ seed.root_path ~ "/" ~ seed.original_file_path ~ "')") }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error(
        "The seed cost_drivers is not loaded in " ~ seed.database ~ "." ~ seed.schema
        ~ ": run `dbt seed` (or `dbt build`) first."
    ) }}
{%- endmacro %}
