"""What the landing folder holds, read without the warehouse: each extract file's
fingerprint (path, size, modification time) and periods, the closed periods (those
with cost pools, METHOD.md), and which periods changed since an earlier look. The
landing sensor keeps `fingerprints()` as its cursor."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipelines.contract import LOAD_ORDER, PERIOD_TABLES
from pipelines.loader.periods import IndexedFile, changed_periods_between, landing_files
from pipelines.loader.reading import EXTRACT_SUFFIXES
from pipelines.publication import file_sha256

# Files of the tables without a period (customers, products): a change to them
# reaches every period's marts through the latest closed period's run.
_WHOLE_TABLES = tuple(name for name in LOAD_ORDER if name not in PERIOD_TABLES)

# A cursor entry: path -> [table, size in bytes, modification time in ns, periods].
Fingerprints = dict[str, list]


@dataclass(frozen=True)
class LandingScan:
    files: dict[str, list[IndexedFile]]  # table -> its files, whole tables included

    @property
    def periods(self) -> set[str]:
        return {
            period for files in self.files.values() for file in files for period in file.periods
        }

    @property
    def closed_periods(self) -> set[str]:
        return {period for file in self.files.get("cost_pools", []) for period in file.periods}

    def fingerprints(self) -> Fingerprints:
        return {
            file.path: [file.table, file.size_bytes, file.modified_ns, sorted(file.periods)]
            for files in self.files.values()
            for file in files
        }

    def changed_periods_since(self, earlier: Fingerprints) -> set[str]:
        """Periods whose files are new, changed or gone since `earlier`; a change to a
        customers or products file counts as a change of the latest closed period."""
        before: dict[str, list[IndexedFile]] = {}
        for path, (table, size_bytes, modified_ns, periods) in earlier.items():
            before.setdefault(table, []).append(
                IndexedFile(table, path, size_bytes, modified_ns, frozenset(periods))
            )
        changed = set().union(*changed_periods_between(before, self.files).values())
        now = self.fingerprints()
        whole_table_files = {
            path for path, (table, *_) in (earlier | now).items() if table in _WHOLE_TABLES
        }
        if any(earlier.get(path) != now.get(path) for path in whole_table_files):
            changed |= {max(self.closed_periods)} if self.closed_periods else set()
        return changed


def landing_scan(
    landing_dir: Path, index_file: Path | None = None, *, tables: Sequence[str] = PERIOD_TABLES
) -> LandingScan:
    """`index_file` keeps what earlier scans read (landing_files). `tables`, the
    tables with a period to read (all by default), may be OWN_PERIOD_TABLES when only the
    periods matter, not which files hold them: it is the same set of periods."""
    files = landing_files(landing_dir, tables, index_file=index_file)
    for table in _WHOLE_TABLES:
        folder = Path(landing_dir) / table
        if folder.is_dir():
            files[table] = [
                IndexedFile(
                    table, str(path.absolute()), stat.st_size, stat.st_mtime_ns, frozenset()
                )
                for path in sorted(folder.iterdir())
                if path.is_file() and path.suffix.lower() in EXTRACT_SUFFIXES
                for stat in [path.stat()]
            ]
    return LandingScan(files)


def input_checksums(landing_dir: Path, known: Sequence[dict] = ()) -> list[dict]:
    """Every extract file of the landing folder with its size and SHA-256, for the feed's
    manifest: which inputs a publication was made from. A file whose path, size and
    modification time match an entry of `known` (the previous manifest's) keeps its
    checksum: only new or changed files are read, at some 1 GB/s."""
    earlier = {(entry["path"], entry["size"], entry["modified_ns"]): entry for entry in known}
    inputs = []
    for table in [*PERIOD_TABLES, *_WHOLE_TABLES]:
        folder = Path(landing_dir) / table
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if not (path.is_file() and path.suffix.lower() in EXTRACT_SUFFIXES):
                continue
            stat = path.stat()
            key = (str(path.absolute()), stat.st_size, stat.st_mtime_ns)
            sha256 = earlier[key]["sha256"] if key in earlier else file_sha256(path)
            inputs.append(
                {
                    "table": table,
                    "path": key[0],
                    "size": key[1],
                    "modified_ns": key[2],
                    "sha256": sha256,
                }
            )
    return inputs
