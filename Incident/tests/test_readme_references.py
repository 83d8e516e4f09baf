"""Every place the product sends a reader to README names a section README has, and README's
figures about the product agree with the code."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
HEADINGS = {line.lstrip("#").strip() for line in README.splitlines() if line.startswith("#")}
# README "Section", README, "Section" and (README, "Section"), across line breaks.
REFERENCE = re.compile(r'README,?\s+\\?"([^"\\]+)\\?"')


def references() -> list[tuple[str, str]]:
    found = []
    for path in ROOT.glob("*/**/*"):
        if path.suffix not in (".py", ".html", ".txt") or {".venv", "tests", "node_modules"} & set(
                path.relative_to(ROOT).parts):
            continue
        text = " ".join(path.read_text(encoding="utf-8", errors="ignore").split())
        found += [(str(path.relative_to(ROOT)), name) for name in REFERENCE.findall(text)]
    return found


def test_the_product_refers_to_readme_sections_at_all():
    assert len(references()) >= 5  # the finder finds them (settings, health, the insights page)


@pytest.mark.parametrize("where, section", references())
def test_each_readme_section_the_product_names_exists(where, section):
    assert section in HEADINGS, f"{where} sends readers to README \"{section}\", which has no such heading"


def test_readmes_sample_counts_the_templates_the_product_needs():
    from notifications.whatsapp.templates import DEFAULT_TEMPLATES

    assert f"1 of {len(DEFAULT_TEMPLATES)} templates the product needs" in README
