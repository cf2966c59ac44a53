{#- What Spark (dbt-spark, Parquet tables) needs that DuckDB and PostgreSQL do not.
    docs/spark.md says what differs in a run. -#}

{#- The contracts' data types (the marts' YAML) are PostgreSQL's and DuckDB's names;
    dbt checks a contract by casting null to each of them. Spark SQL has no varchar
    without a length, no text and no double precision. -#}
{% macro spark__cast(field, type) -%}
    {%- set spark_names = {'varchar': 'string', 'text': 'string', 'double precision': 'double'} -%}
    cast({{ field }} as {{ spark_names.get(type | trim | lower, type) }})
{%- endmacro %}

{#- On Spark every run rebuilds every period. Incremental models delete the rows of
    the periods they rebuild (delete_period_range, delete+insert by key); Parquet
    tables have no row-level delete, and the table formats that have one (Delta Lake,
    Iceberg) load their jars from Maven when the session starts. With is_incremental()
    false, dbt-spark's insert_overwrite rewrites the whole table from the model's full
    query: a full build, whatever periods the run names. -#}
{% macro is_incremental() -%}
    {%- if target.type == 'spark' -%}
        {{ return(false) }}
    {%- endif -%}
    {{ return(dbt.is_incremental()) }}
{%- endmacro %}

{#- Pre-hook of the staging models: on Spark, the ERP source a model reads is the
    loader's raw Parquet (pipelines/loader/raw_parquet.py,
    <warehouse folder>/raw/<table>/period=YYYY-MM/), registered again before each build as
    an external table of the schema raw, so that a run reads exactly the files the loader
    last wrote. recursiveFileLookup reads every period's folder without taking `period=`
    for a column: the files hold _period themselves, and cost_pools has a column period.
    Nothing elsewhere. -#}
{% macro register_raw_parquet() -%}
    {%- if target.type == 'spark' and execute -%}
        {#- From the profile, through Spark's conf: env_var() here would make the folder
            part of the parse, and every warehouse would parse the project again. -#}
        {%- set raw_folder = run_query('set spark.oasis.raw_parquet').columns[1].values()[0] -%}
        {%- do run_query('create schema if not exists raw') -%}
        {%- for source_name, table_name in model.sources if source_name == 'erp' -%}
            {%- do run_query('drop table if exists raw.' ~ table_name) -%}
            {%- do run_query(
                "create table raw." ~ table_name ~ " using parquet options (path '"
                ~ raw_folder ~ "/" ~ table_name ~ "', recursiveFileLookup 'true')"
            ) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{#- dbt-spark's session method fills a seed's values into its insert without escaping
    them, so a value with an apostrophe ("the invoice's number of shipments") breaks the
    statement: the values are written as escaped literals here instead. -#}
{% macro spark__load_csv_rows(model, agate_table) -%}
    {%- set column_types = model['config'].get('column_types', {}) -%}
    {%- set sql -%}
        insert into {{ this.render() }} values
        {%- for row in agate_table.rows %}
        (
            {%- for value in row -%}
                {%- set column_name = agate_table.column_names[loop.index0] -%}
                {%- set type = column_types.get(column_name, adapter.convert_type(agate_table, loop.index0)) -%}
                {%- if value is none -%}
                    cast(null as {{ type }})
                {%- else -%}
                    cast('{{ dbt.escape_single_quotes(value | string) }}' as {{ type }})
                {%- endif -%}
                {{- ", " if not loop.last -}}
            {%- endfor -%}
        ){{ "," if not loop.last }}
        {%- endfor %}
    {%- endset -%}
    {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
    {{ return(sql) }}
{%- endmacro %}

{#- dbt-spark's listagg ignores the order (collect_list, with a warning), and the
    reasons of customer_policy_flags must read in their order; Spark 4 has listagg
    within group. -#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if limit_num -%}
        {{ exceptions.raise_compiler_error("listagg with a limit is not written for Spark") }}
    {%- endif -%}
    listagg({{ measure }}, {{ delimiter_text }}) within group ({{ order_by_clause }})
{%- endmacro %}

{#- dbt-spark's dateadd goes through unix timestamps, which are null for the timestamps
    without a time zone this profile uses (spark.sql.timestampType): every period_end
    and the as-of date came out null. Spark has last_day. -#}
{% macro spark__last_day(date, datepart) -%}
    {%- if datepart != 'month' -%}
        {{ exceptions.raise_compiler_error("last_day is written for months on Spark") }}
    {%- endif -%}
    last_day({{ date }})
{%- endmacro %}
