"""Publishing a run's outputs together or not at all.

BI tools read the published copy of the warehouse and other systems read the policy feed:
if one were replaced and the other not, they would disagree (a read-only exports folder
once failed a run after its published copy had been replaced). So every output is first
written beside its final name, in its own folder (which proves that folder writable), and
only when all of them are written are they renamed over the old ones, each rename atomic.
A rename within a folder where the file was just written does not fail for want of space
or permission, so once staging succeeded the renames go through.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class StagedFiles:
    """Files written to temporary names, each to be renamed over its final name."""

    renames: list[tuple[Path, Path]] = field(default_factory=list)  # (temporary, final)
    # Final files that the publication removes (say, one left from an older publication).
    removals: list[Path] = field(default_factory=list)
    # Folders written for this publication (the Parquet marts' new version): removed if the
    # publication is discarded.
    folders: list[Path] = field(default_factory=list)
    # Folders that the publication makes obsolete (a Parquet marts version two behind).
    obsolete_folders: list[Path] = field(default_factory=list)

    def add(self, temporary: Path, final: Path) -> None:
        self.renames.append((temporary, final))

    def extend(self, other: StagedFiles) -> None:
        self.renames += other.renames
        self.removals += other.removals
        self.folders += other.folders
        self.obsolete_folders += other.obsolete_folders

    def commit(self) -> None:
        """Renames every file over its final name, in the order staged."""
        for temporary, final in self.renames:
            os.replace(temporary, final)
        for path in self.removals:
            path.unlink(missing_ok=True)
        for folder in self.obsolete_folders:
            shutil.rmtree(folder, ignore_errors=True)

    def discard(self) -> None:
        for temporary, _ in self.renames:
            temporary.unlink(missing_ok=True)
        for folder in self.folders:
            shutil.rmtree(folder, ignore_errors=True)


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read in 1 MiB blocks: what manifests name files by."""
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
