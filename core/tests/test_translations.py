"""The translation catalogs are complete: every message of every language translated (no empty, no fuzzy entry,
the same placeholders as the English), and no string in the code that the catalogs do not have yet."""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

from core.msgfmt import compile_po, read_po

LOCALE = Path(settings.BASE_DIR) / "locale"
CATALOGS = sorted(LOCALE.glob("*/LC_MESSAGES/*.po"))
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{\{ *(\w+) *\}\}")
# What makemessages reads; the same arguments docs/BUYER.md gives for updating the catalogs.
MAKEMESSAGES = {
    "django": {"ignore_patterns": [".venv", "staticfiles", "tests", "*/tests/*", "bench", "deploy", "artifacts"]},
    "djangojs": {"ignore_patterns": [".venv", "staticfiles", "static/vendor/*", "tests", "artifacts"]},
}


def _placeholders(text: str) -> set[str]:
    return {a or b for a, b in PLACEHOLDER.findall(text)}


def test_every_offered_language_but_english_has_both_catalogs():
    for code, _name in settings.LANGUAGES:
        if code != "en":
            assert (LOCALE / code / "LC_MESSAGES" / "django.po").exists(), code
            assert (LOCALE / code / "LC_MESSAGES" / "djangojs.po").exists(), code


@pytest.mark.parametrize("catalog", CATALOGS, ids=lambda path: "/".join(path.parts[-3:]))
def test_every_message_is_translated_and_none_is_fuzzy(catalog):
    problems = []
    for entry in read_po(catalog):
        if not entry.msgid:
            assert not entry.fuzzy, "the header is marked fuzzy"
            continue
        if not entry.translated:
            problems.append(f"{'fuzzy' if entry.fuzzy else 'untranslated'}: {entry.msgid!r}")
        elif any(_placeholders(text) != _placeholders(entry.msgid) for text in entry.msgstr):
            problems.append(f"placeholders differ: {entry.msgid!r}")
    assert not problems, "\n".join(problems)


def test_the_python_compile_gives_what_gnu_msgfmt_gives(tmp_path):
    """The set-up compiles with core.msgfmt where GNU gettext is missing: the same messages either way."""
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("GNU gettext (msgfmt) is not installed")
    for catalog in CATALOGS:
        ours, theirs = tmp_path / "ours.mo", tmp_path / "theirs.mo"
        compile_po(catalog, ours)
        subprocess.run([msgfmt, "-o", str(theirs), str(catalog)], check=True)
        read = [gettext.GNUTranslations(path.open("rb"))._catalog for path in (ours, theirs)]
        assert {k: v for k, v in read[0].items() if k} == {k: v for k, v in read[1].items() if k}, catalog


@pytest.mark.parametrize("domain", sorted(MAKEMESSAGES))
def test_makemessages_finds_no_string_the_catalogs_lack(domain):
    """Extract the strings of the code again, into a copy of the catalogs: nothing new, nothing untranslated.

    A new string in a template, view or script fails here until it is translated in every catalog."""
    if shutil.which("xgettext") is None or shutil.which("msgmerge") is None:
        pytest.skip("GNU gettext (xgettext, msgmerge) is not installed")
    languages = [code for code, _name in settings.LANGUAGES if code != "en"]
    # makemessages writes each file's strings to the first locale folder whose parent holds the file, and puts a
    # locale/ folder its walk meets first: with locale/ left out of the walk, a hidden sibling of it (the walk skips
    # hidden folders) first in LOCALE_PATHS takes them all.
    copy = Path(tempfile.mkdtemp(prefix=".makemessages-", dir=settings.BASE_DIR))
    try:
        for code in languages:
            (copy / code / "LC_MESSAGES").mkdir(parents=True)
            shutil.copy(LOCALE / code / "LC_MESSAGES" / f"{domain}.po", copy / code / "LC_MESSAGES")
        with override_settings(LOCALE_PATHS=[copy, LOCALE]):
            options = MAKEMESSAGES[domain]
            ignored = [*options["ignore_patterns"], "locale"]
            call_command("makemessages", locale=languages, domain=domain, verbosity=0, ignore_patterns=ignored)
        extracted = {code: read_po(copy / code / "LC_MESSAGES" / f"{domain}.po") for code in languages}
    finally:
        shutil.rmtree(copy)
    for code, entries in extracted.items():
        missing = [entry.msgid for entry in entries if entry.msgid and not entry.translated]
        assert not missing, f"{code}/{domain}.po lacks translations of: {missing}"
