"""A run's dbt build leaves no folder behind in the project's target/ (2-10 MB a run)."""

import re

from orchestration.dbt_project import oasis_dbt_project
from tests.conftest import BuiltWarehouse


def test_a_successful_run_removes_its_dbt_target_folder(built_warehouse: BuiltWarehouse):
    # "Reports:   <reports>/<time>-<first 8 characters of the run id> (...)"
    run_id = re.search(r"Reports:\s+\S+-([0-9a-f]{8}) ", built_warehouse.run_output)[1]
    target = oasis_dbt_project.project_dir / oasis_dbt_project.target_path
    assert not list(target.glob(f"oasis_dbt_models-{run_id[:7]}-*"))
    assert (target / "manifest.json").is_file()
