"""The translation catalogs are complete: every message of every language translated (no empty, no fuzzy entry,
the same placeholders as the English), and no string in the code that the catalogs do not have yet."""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from core.msgfmt import compile_po, read_po

LOCALE = Path(settings.BASE_DIR) / "locale"
# The apps whose models, fields and choices are named by this project (the admin shows them as labels and headers).
PROJECT_APPS = ("accounts", "core", "events", "inventory", "orders", "ops")
CATALOGS = sorted(LOCALE.glob("*/LC_MESSAGES/*.po"))
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{\{ *(\w+) *\}\}")
# What makemessages reads; the same arguments docs/BUYER.md gives for updating the catalogs.
MAKEMESSAGES = {
    "django": {"ignore_patterns": [".venv", "staticfiles", "tests", "*/tests/*", "bench", "deploy", "artifacts"]},
    "djangojs": {"ignore_patterns": [".venv", "staticfiles", "static/vendor/*", "tests", "deploy", "artifacts"]},
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


def test_a_fuzzy_entry_after_a_translated_one_counts_as_untranslated(tmp_path):
    """makemessages marks a changed message fuzzy with the old one's translation: the check must see it."""
    catalog = tmp_path / "django.po"
    catalog.write_text(
        'msgid ""\nmsgstr ""\n"Language: de\\n"\n\n'
        'msgid "Row"\nmsgstr "Reihe"\n\n'
        '#: page.html:1\n#, fuzzy\n#| msgid "Row"\nmsgid "Now"\nmsgstr "Reihe"\n\n'
        '#, fuzzy\nmsgctxt "verb"\nmsgid "Cancel"\nmsgstr "Absage"\n',
        encoding="utf-8",
    )
    entries = {entry.msgid: entry for entry in read_po(catalog)}
    assert entries["Row"].translated
    assert entries["Now"].fuzzy and not entries["Now"].translated
    assert entries["Cancel"].fuzzy and not entries["Cancel"].translated


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


# --- Every template's text is in translate tags ----------------------------------------------------------------

TEMPLATE_GLOBS = ("templates/**/*.html", "*/templates/**/*.html", "*/templates/**/*.txt")
# Attributes a person reads or hears (a screen reader announces aria-label, title and alt).
READ_ATTRIBUTES = {"alt", "aria-label", "data-expired-text", "data-label", "placeholder", "title", "value"}
# Words that are the same in every language: the brand, units, file formats, and the name of a time zone.
UNTRANSLATED_WORDS = {"TicketRemaster", "UTC", "CSV", "XLSX", "QR", "ms", "p95"}
# Templates that are no page of ours: drf-spectacular's ReDoc page with our head block (no visible text).
NOT_PAGES = {"templates/drf_spectacular/redoc.html"}
# Tags whose content is skipped: translated, commented out, or the attributes of <body> (no text).
SKIPPED_BLOCKS = {
    "blocktranslate": "endblocktranslate",
    "comment": "endcomment",
    "verbatim": "endverbatim",
    "block body_attrs": "endblock",
}


class _TextCollector(HTMLParser):
    """The text a person sees on a page: data outside <script>/<style>, and the read attributes' values."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "style"}:
            self._hidden += 1
        # A <input type="hidden"> value is data, not text; an <option>'s value is an id.
        kind = dict(attrs).get("type")
        for name, value in attrs:
            if name in READ_ATTRIBUTES and value and not (name == "value" and (tag != "input" or kind == "hidden")):
                self.texts.append(value)

    def handle_endtag(self, tag):
        if tag in {"script", "style"}:
            self._hidden = max(0, self._hidden - 1)

    def handle_data(self, data):
        if not self._hidden:
            self.texts.append(data)


def _untranslated_text(source: str, *, markup: bool) -> list[str]:
    """The words of a template outside {% translate %}/{% blocktranslate %}, variables and comments."""
    from django.template.base import Lexer, TokenType

    parts: list[str] = []
    closing: str | None = None
    for token in Lexer(source).tokenize():
        if closing is not None:
            if token.token_type == TokenType.BLOCK and token.contents.split()[0] == closing:
                closing = None
            continue
        if token.token_type == TokenType.TEXT:
            parts.append(token.contents)
            continue
        # A variable or a tag stands for a value: a placeholder that is no word and keeps the HTML well formed.
        parts.append(" \x00 ")
        if token.token_type == TokenType.BLOCK:
            closing = SKIPPED_BLOCKS.get(token.contents.split()[0]) or SKIPPED_BLOCKS.get(token.contents)
    text = "".join(parts)
    if markup:
        collector = _TextCollector()
        collector.feed(text)
        collector.close()
        texts = collector.texts
    else:
        texts = [text]
    words = [word for chunk in texts for word in re.findall(r"[^\W\d_]{2,}", chunk.replace("\x00", " "))]
    return [word for word in words if word not in UNTRANSLATED_WORDS]


def test_every_template_text_is_in_translate_tags():
    """A page, an email or a staff page with a sentence outside translate tags would show English in German."""
    base = Path(settings.BASE_DIR)
    problems = []
    for pattern in TEMPLATE_GLOBS:
        for path in sorted(base.glob(pattern)):
            name = path.relative_to(base).as_posix()
            if name.startswith((".venv/", "staticfiles/")) or name in NOT_PAGES:
                continue
            words = _untranslated_text(path.read_text(encoding="utf-8"), markup=path.suffix == ".html")
            if words:
                problems.append(f"{name}: {' '.join(words)}")
    assert not problems, "text outside {% translate %}:\n" + "\n".join(problems)


def test_the_template_check_finds_text_outside_translate_tags():
    source = '{% load i18n %}<p title="Plain">{% translate "Kept" %} Loose {{ value }}</p>{# note #}'
    assert _untranslated_text(source, markup=True) == ["Plain", "Loose"]
    assert _untranslated_text("{% blocktranslate %}Inside {{ x }}{% endblocktranslate %}", markup=True) == []
    assert _untranslated_text("TicketRemaster · {{ x }} ms", markup=True) == []


# --- Every name the admin derives a label from is translated ----------------------------------------------------


def _names_people_read():
    """(where, name) of what the staff admin shows from the models: each project app's name, each model's singular
    and plural name, each field's label and each choice's label."""
    for app_label in PROJECT_APPS:
        config = apps.get_app_config(app_label)
        yield app_label, config.verbose_name
        for model in config.get_models():
            opts = model._meta
            yield f"{opts.label} (name)", opts.verbose_name
            yield f"{opts.label} (plural)", opts.verbose_name_plural
            for field in [*opts.concrete_fields, *opts.many_to_many]:
                if field.auto_created:
                    continue  # Django's own "ID" of a model without a declared key: the same word in German
                yield f"{opts.label}.{field.name}", field.verbose_name
                for value, label in field.flatchoices:
                    yield f"{opts.label}.{field.name}={value}", label


def _untranslated_names(names, *, language: str, catalog_msgids: set[str]) -> list[str]:
    """Names that are not lazy translations (a plain string stays English in every language), or that have no
    translation: the same text in ``language`` as in English and no translated entry of the catalog."""
    problems = []
    for where, name in names:
        if not isinstance(name, Promise):
            problems.append(f"{where}: {name!r} is a plain string, not gettext_lazy")
            continue
        with translation.override("en"):
            english = str(name)
        with translation.override(language):
            translated = str(name)
        if translated == english and english not in catalog_msgids:
            problems.append(f"{where}: {english!r} has no {language} translation")
    return problems


@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES if code != "en"])
def test_every_model_field_and_choice_name_is_translated(language):
    """A model or field added without ``verbose_name=_(...)`` would be named in English on the German admin."""
    catalog_msgids = {
        entry.msgid for entry in read_po(LOCALE / language / "LC_MESSAGES" / "django.po") if entry.translated
    }
    names = list(_names_people_read())
    assert len(names) > 300  # every app's models were found
    problems = _untranslated_names(names, language=language, catalog_msgids=catalog_msgids)
    assert not problems, "\n".join(problems)


def test_the_name_check_finds_plain_and_untranslated_names():
    names = [
        ("plain", "sales start"),
        ("missing", gettext_lazy("a name no catalog has")),
        ("translated", gettext_lazy("sales start")),
        ("the same in German", gettext_lazy("x")),
    ]
    problems = _untranslated_names(names, language="de", catalog_msgids={"x"})
    assert [problem.split(":")[0] for problem in problems] == ["plain", "missing"]
