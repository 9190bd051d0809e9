"""English is complete: every UI string (re-extracted now from marketplace/ and templates/) has an
English translation with the same placeholders, and the committed .mo matches the .po."""
from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%(?:\([a-zA-Z_]+\))?[sd%]")


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    out = tmp_path_factory.mktemp("i18n") / "messages.pot"
    done = subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l",
                           "-k", "lazy_gettext", "--no-location", "-o", str(out), "marketplace", "templates"],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, "pybabel extract failed:\n" + done.stderr[-3000:]
    with open(out, "rb") as fh:
        return read_po(fh)


@pytest.fixture(scope="module")
def english():
    with open(PO, "rb") as fh:
        return read_po(fh)


def _strings(message) -> list[str]:
    return list(message.string) if isinstance(message.string, (tuple, list)) else [message.string]


def test_every_msgid_has_an_english_translation(template, english):
    missing = []
    for message in template:
        if not message.id:
            continue
        translated = english.get(message.id)
        if translated is None or not all(_strings(translated)) or translated.fuzzy:
            missing.append(message.id)
    assert missing == [], (f"{len(missing)} strings without English (run `make translations`, then translate in "
                           f"{PO.relative_to(ROOT)}):\n" + "\n".join(map(str, missing[:40])))


def test_translations_keep_the_placeholders(english):
    wrong = []
    for message in english:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, (tuple, list)) else (message.id,)
        expected = sorted(set(PLACEHOLDER.findall(ids[-1])))
        for text in _strings(message):
            if sorted(set(PLACEHOLDER.findall(text))) != expected:
                wrong.append(f"{message.id!r} → {text!r}")
    assert wrong == [], "\n".join(wrong)


def test_compiled_catalog_is_current(english):
    buffer = io.BytesIO()
    write_mo(buffer, english)
    assert PO.with_suffix(".mo").read_bytes() == buffer.getvalue(), "run `make translations` (pybabel compile)"


def test_english_pages_use_the_catalog(demo_client):
    page = demo_client.get("/?lang=en").get_data(as_text=True)
    assert 'lang="en"' in page
    assert "Skip navigation" in page and "Bỏ qua điều hướng" not in page
    assert "Skip navigation" in demo_client.get("/").get_data(as_text=True)  # the choice is remembered
    assert "Bỏ qua điều hướng" in demo_client.get("/?lang=vi").get_data(as_text=True)
