"""`dbt parse` runs only when the project changed: what the fingerprint covers."""

from pathlib import Path

from orchestration.dbt_project import (
    oasis_dbt_project,
    prepare_dbt_manifest,
    project_fingerprint,
)


def _project(folder: Path) -> Path:
    (folder / "models").mkdir(parents=True)
    (folder / "dbt_project.yml").write_text(
        "vars:\n  gl_tolerance: \"{{ env_var('OASIS_AUDIT_GL_TOLERANCE', '0.005') }}\"\n"
    )
    (folder / "models" / "a.sql").write_text("select 1 as a\n")
    (folder / "profiles.yml").write_text("path: \"{{ env_var('OASIS_WAREHOUSE') }}\"\n")
    return folder


def test_the_fingerprint_changes_with_a_model_a_new_file_and_an_env_var_the_project_reads(
    tmp_path: Path,
):
    project = _project(tmp_path)
    before = project_fingerprint(project, {})
    assert project_fingerprint(project, {}) == before

    (project / "models" / "a.sql").write_text("select 2 as a\n")
    edited = project_fingerprint(project, {})
    (project / "models" / "b.sql").write_text("select 3 as b\n")
    added = project_fingerprint(project, {})
    tolerance = project_fingerprint(project, {"OASIS_AUDIT_GL_TOLERANCE": "0.01"})
    assert len({before, edited, added, tolerance}) == 4


def test_the_profile_and_env_vars_read_only_at_run_time_leave_it_alone(tmp_path: Path):
    project = _project(tmp_path)
    before = project_fingerprint(project, {"OASIS_WAREHOUSE": "/a.duckdb"})
    (project / "profiles.yml").write_text("threads: 4\n")
    assert project_fingerprint(project, {"OASIS_WAREHOUSE": "/b.duckdb"}) == before


def test_an_unchanged_project_is_not_parsed_again():
    manifest = oasis_dbt_project.project_dir / oasis_dbt_project.target_path / "manifest.json"
    prepare_dbt_manifest()
    written = manifest.stat().st_mtime_ns
    prepare_dbt_manifest()
    assert manifest.stat().st_mtime_ns == written
