"""The README and docs/ stand on their own in a clone: every relative link resolves to a
file of the project, and the specification's three pages are here, whole."""

import re
from pathlib import Path

from pipelines.settings import REPO_ROOT

# [text](target) with a relative target; anchors after `#` are not files.
LINK = re.compile(r"\]\((?!https?://|mailto:|#)([^)#\s]+)")
DOCUMENTS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]


def relative_links(document: Path) -> list[str]:
    return LINK.findall(document.read_text(encoding="utf-8"))


def test_every_relative_link_of_the_readme_and_docs_resolves_inside_the_project():
    broken = []
    for document in DOCUMENTS:
        for target in relative_links(document):
            resolved = (document.parent / target).resolve()
            if not resolved.exists() or not resolved.is_relative_to(REPO_ROOT):
                broken.append(f"{document.relative_to(REPO_ROOT)} -> {target}")
    assert broken == []


def test_the_link_finder_sees_a_link_that_leaves_the_project(tmp_path):
    document = tmp_path / "page.md"
    document.write_text("See [the method](../shared/METHOD.md#periods) and [x](https://a.b).")
    assert relative_links(document) == ["../shared/METHOD.md"]


def test_the_specification_pages_are_copied_whole_with_their_sections():
    sections = {
        "method.md": ["## The invoice-line P&L", "## The desert portal", "## The desert team"],
        "contract.md": ["cost_pools", "gl_summary", "invoice_lines"],
        "marts.md": ["marts.fct_invoice_line_pnl", "customer_policy_flags"],
    }
    for page, expected in sections.items():
        text = (REPO_ROOT / "docs" / page).read_text(encoding="utf-8")
        assert text.startswith("<!-- Copied from the specification")
        assert [heading for heading in expected if heading not in text] == []
        assert "../shared" not in text
