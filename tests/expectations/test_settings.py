"""The auditors' thresholds: defaults from docs/auditors.md, overridden by OASIS_AUDIT_*."""

import pytest

from expectations.settings import AuditSettings


def test_defaults_are_the_documented_ones() -> None:
    settings = AuditSettings.from_environment({})
    assert settings == AuditSettings(
        rate_band=3.0, quarantine_warn_share=0.01, quarantine_error_share=0.05
    )


def test_variables_override_the_defaults_and_empty_ones_are_ignored() -> None:
    settings = AuditSettings.from_environment(
        {
            "OASIS_AUDIT_RATE_BAND": "5",
            "OASIS_AUDIT_QUARANTINE_ERROR": "",
            "OASIS_AUDIT_QUARANTINE_WARN": "0.02",
        }
    )
    assert settings.rate_band == 5.0
    assert settings.quarantine_error_share == 0.05
    assert settings.quarantine_warn_share == 0.02


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"OASIS_AUDIT_RATE_BAND": "three"}, "OASIS_AUDIT_RATE_BAND must be a number"),
        ({"OASIS_AUDIT_RATE_BAND": "1"}, "rate_band must be above 1"),
        (
            {"OASIS_AUDIT_QUARANTINE_WARN": "0.2", "OASIS_AUDIT_QUARANTINE_ERROR": "0.1"},
            "warn <= error",
        ),
    ],
)
def test_nonsense_settings_are_refused_with_their_name(environ: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AuditSettings.from_environment(environ)
