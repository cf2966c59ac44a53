{#- Incremental builds by period (monthly partitions).

    `oasis run --period/--from/--to` and Dagster's period partitions hand the periods
    (YYYY-MM) to dbt in the environment, OASIS_PERIOD_FROM and OASIS_PERIOD_TO, read only
    when dbt executes: as vars they would change dbt's parse state and cost every monthly
    run a full parse of the project. By hand, pass the vars period_from and period_to,
    which win over the environment. The first model of each chain rebuilds the
    documents of those periods (plus, for invoices, those whose payments changed);
    every later model rebuilds what its parent wrote since the later model's own last
    build (`built_at` watermark), so a run that failed half-way is caught up by the
    next one. Without the vars an incremental build covers every period; a first
    build, or `--full-refresh`, builds the table from scratch. -#}

{% macro period_range() -%}
    {%- set period_from = var('period_from', none) -%}
    {%- set period_to = var('period_to', none) -%}
    {%- if period_from is none and period_to is none and execute -%}
        {%- set period_from = env_var('OASIS_PERIOD_FROM', '') or none -%}
        {%- set period_to = env_var('OASIS_PERIOD_TO', '') or none -%}
    {%- endif -%}
    {%- if (period_from is none) != (period_to is none) -%}
        {{ exceptions.raise_compiler_error("set both vars period_from and period_to, or neither") }}
    {%- endif -%}
    {%- for period in [period_from, period_to] if period is not none -%}
        {%- if not modules.re.fullmatch('[0-9]{4}-(0[1-9]|1[0-2])', period | string) -%}
            {{ exceptions.raise_compiler_error("period_from and period_to are YYYY-MM, got '" ~ period ~ "'") }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(none if period_from is none else (period_from | string, period_to | string)) }}
{%- endmacro %}

{#- True for the rows of the requested periods (all rows when none are requested). -#}
{% macro in_requested_periods(column) -%}
    {%- set range = period_range() -%}
    {%- if range is none -%}
        1 = 1
    {%- else -%}
        {{ column }} between '{{ range[0] }}' and '{{ range[1] }}'
    {%- endif -%}
{%- endmacro %}

{#- True for the rows an incremental model rebuilds: the requested periods on an
    incremental build, every row on a first build or a full refresh. -#}
{% macro in_rebuilt_periods(column) -%}
    {%- if is_incremental() -%}
        {{ in_requested_periods(column) }}
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook of the incremental models: documents of the rebuilt periods may have
    disappeared from the extracts, so their rows go before the new ones come in. -#}
{% macro delete_period_range() -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ in_requested_periods('period') }}
    {%- endif -%}
{%- endmacro %}

{#- When this invocation of dbt started: the same instant for every model of a run. -#}
{% macro build_timestamp() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#- True for the rows of a parent written after this model's latest build. -#}
{% macro built_since_last_build(parent_alias) -%}
    {{ parent_alias }}.built_at > (
        select coalesce(max(built_at), cast('1900-01-01' as {{ dbt.type_timestamp() }}))
        from {{ this }}
    )
{%- endmacro %}

{#- The periods of which a parent rebuilt rows since this model's latest build. -#}
{% macro periods_built_since_last_build(parent) -%}
    select distinct rebuilt.period
    from {{ parent }} as rebuilt
    where {{ built_since_last_build('rebuilt') }}
{%- endmacro %}

{#- The as-of periods of which a parent rebuilt rows since this model's latest build. -#}
{% macro as_of_periods_built_since_last_build(parent) -%}
    select distinct rebuilt.as_of_period
    from {{ parent }} as rebuilt
    where {{ built_since_last_build('rebuilt') }}
{%- endmacro %}

{#- The months of each as-of period's window (int_as_of_period_months, the one window
    join). A full build keeps every as-of period; an incremental build those whose
    window holds a period of the query `changed_periods`, and those of the query
    `rebuilt_as_of_periods` (each may be left out). -#}
{% macro window_months_to_rebuild(changed_periods=none, rebuilt_as_of_periods=none) -%}
    select
        windows.as_of_period,
        windows.as_of_index,
        windows.period,
        windows.period_index
    from {{ ref('int_as_of_period_months') }} as windows
    {%- if is_incremental() %}
    where windows.as_of_period in (
        {%- if changed_periods is not none %}
        select changed_windows.as_of_period
        from {{ ref('int_as_of_period_months') }} as changed_windows
        where changed_windows.period in ({{ changed_periods }})
        {%- endif %}
        {%- if changed_periods is not none and rebuilt_as_of_periods is not none %}
        union
        {%- endif %}
        {%- if rebuilt_as_of_periods is not none %}
        {{ rebuilt_as_of_periods }}
        {%- endif %}
    )
    {%- endif %}
{%- endmacro %}

{#- Two CTEs for a model redone per as-of period of `parent`: rebuilt_as_of_periods (in
    an incremental build only: the as-of periods `parent` rebuilt since this model's
    latest build) and windows (the months of their windows; of every window in a full
    build). -#}
{% macro windows_of_as_of_periods_rebuilt_in(parent) -%}
    {%- if is_incremental() %}
rebuilt_as_of_periods as (
    {{ as_of_periods_built_since_last_build(parent) }}
),
    {%- endif %}

windows as (
    {{ window_months_to_rebuild(
        rebuilt_as_of_periods='select rebuilt_as_of_periods.as_of_period from rebuilt_as_of_periods'
    ) }}
)
{%- endmacro %}
