"""The auditors' thresholds, with their defaults (docs/auditors.md lists them).

| variable                     | default | meaning                                          |
|------------------------------|---------|--------------------------------------------------|
| OASIS_AUDIT_RATE_BAND        | 3       | warn when a pool's rate leaves [median / 3,      |
|                              |         | median * 3] of its earlier periods' rates        |
| OASIS_AUDIT_QUARANTINE_WARN  | 0.01    | quarantined share of a table's records: warning  |
| OASIS_AUDIT_QUARANTINE_ERROR | 0.05    | ... and error, which blocks publication          |

The reconciliations are not decided here: the dbt models of the schema `audit` decide
them (pools to the cent, macros/pnl.sql; the ledger within the dbt var `gl_tolerance`,
whose environment variable OASIS_AUDIT_GL_TOLERANCE is its one setting), and the suites
validate their rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

_VARIABLES = {
    "rate_band": "OASIS_AUDIT_RATE_BAND",
    "quarantine_warn_share": "OASIS_AUDIT_QUARANTINE_WARN",
    "quarantine_error_share": "OASIS_AUDIT_QUARANTINE_ERROR",
}


@dataclass(frozen=True)
class AuditSettings:
    # A rate outside [median / band, median * band] of the pool's earlier periods is a
    # warning: 3 lets seasonal pools through and flags a tenfold jump.
    rate_band: float = 3.0
    quarantine_warn_share: float = 0.01
    quarantine_error_share: float = 0.05

    def __post_init__(self) -> None:
        if not self.rate_band > 1:
            raise ValueError(f"rate_band must be above 1, got {self.rate_band}")
        if not 0 <= self.quarantine_warn_share <= self.quarantine_error_share <= 1:
            raise ValueError(
                "quarantine shares must satisfy 0 <= warn <= error <= 1, got "
                f"warn {self.quarantine_warn_share} and error {self.quarantine_error_share}"
            )

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> AuditSettings:
        """Defaults, overridden by the OASIS_AUDIT_* variables that are set and not empty."""
        values: dict[str, float] = {}
        for field_name, variable in _VARIABLES.items():
            text = environ.get(variable, "").strip()
            if not text:
                continue
            try:
                values[field_name] = float(text)
            except ValueError:
                raise ValueError(f"{variable} must be a number, got {text!r}") from None
        return cls(**values)

    def as_dict(self) -> dict[str, float]:
        return asdict(self)
