"""Every place the product sends a reader to the manual names a page and a section it has, and the
manual's figures about the product agree with the code."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = {f"docs/{path.name}": path.read_text(encoding="utf-8")
         for path in (ROOT / "docs").glob("*.md")}
PAGES["README"] = (ROOT / "README.md").read_text(encoding="utf-8")
# docs/page.md, "Section" (or README, "Section"), possibly across line breaks and in a string.
REFERENCE = re.compile(r'(README|docs/[a-z-]+\.md),?\s+\\?"([^"\\]+)\\?"')


def headings(text: str) -> set[str]:
    return {line.lstrip("#").strip() for line in text.splitlines() if line.startswith("#")}


def references() -> list[tuple[str, str, str]]:
    found = []
    places = [path for folder in ("Incident", "accounts", "tickets", "notifications", "bench")
              for path in (ROOT / folder).rglob("*")]
    for path in [*places, ROOT / "Makefile"]:
        if path.suffix not in (".py", ".html", ".txt", "") or not path.is_file() or {
                "tests", "migrations"} & set(path.relative_to(ROOT).parts):
            continue
        text = " ".join(path.read_text(encoding="utf-8", errors="ignore").split())
        found += [(str(path.relative_to(ROOT)), page, name) for page, name in REFERENCE.findall(text)]
    return found


def test_the_product_refers_to_the_manual_at_all():
    assert len(references()) >= 8  # the finder finds them (settings, health, the insights page)


@pytest.mark.parametrize("where, page, section", references())
def test_each_section_the_product_names_exists_on_its_page(where, page, section):
    assert page in PAGES, f"{where} sends readers to {page}, which does not exist"
    assert section in headings(PAGES[page]), f"{where}: {page} has no section \"{section}\""


def test_the_manuals_sample_counts_the_templates_the_product_needs():
    from notifications.whatsapp.templates import DEFAULT_TEMPLATES

    assert f"1 of {len(DEFAULT_TEMPLATES)} templates the product needs" in PAGES["docs/whatsapp.md"]


def test_the_configuration_page_lists_every_setting_the_product_reads_and_no_other():
    source = (ROOT / "Incident" / "settings.py").read_text(encoding="utf-8")
    read = set(re.findall(r'config\(\s*"([A-Z_0-9]+)"', source))
    listed = set()
    for line in PAGES["docs/configuration.md"].splitlines():
        if line.startswith("| `"):
            listed |= set(re.findall(r"`([A-Z][A-Z_0-9]+)`", line.split("|")[1]))
    assert read - listed == set(), "settings the configuration page does not list"
    assert listed - read == set(), "listed settings the product does not read"


def test_each_error_code_the_manual_explains_is_one_the_product_knows():
    from notifications.whatsapp import errors

    section = PAGES["docs/delivery.md"].split("### Errors you may meet", 1)[1].split("\n\n", 2)[1]
    codes = {int(code) for line in section.splitlines()[2:]
             for code in re.findall(r"\b(\d{1,6})\b", line.split("|")[1])}
    assert len(codes) >= 15
    assert {code for code in codes if errors.lookup(code) is None} == set()
