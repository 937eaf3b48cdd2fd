"""Translation catalogs without GNU gettext: read a .po file and write its .mo (the logic of CPython's
Tools/i18n/msgfmt.py, which is not installed with Python).

scripts/_env.sh compiles with ``manage.py compilemessages`` where msgfmt is installed and with
``python -m core.msgfmt`` where it is not; the test suite compiles stale catalogs at start-up the same way, and
reads the catalogs with ``read_po`` to check that every message is translated (docs/BUYER.md, "Languages and time
zones").

    python -m core.msgfmt [locale-dir]      # every LC_MESSAGES/*.po under it (default: ./locale)
"""

from __future__ import annotations

import array
import ast
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class PoEntry:
    msgid: str
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: list[str] = field(default_factory=list)  # one, or one per plural form
    fuzzy: bool = False

    @property
    def translated(self) -> bool:
        return bool(self.msgstr) and all(self.msgstr) and not self.fuzzy


def read_po(path: Path) -> list[PoEntry]:
    """Every entry of the catalog, the header (msgid "") included; obsolete (#~) entries are skipped."""
    entries: list[PoEntry] = []
    current: PoEntry | None = None
    fuzzy = False
    target: tuple[str, int] | None = None

    def finish() -> None:
        nonlocal current
        if current is not None:
            entries.append(current)
        current = None

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#,") and "fuzzy" in line:
            if current is not None and current.msgstr:
                finish()
            fuzzy = True
            continue
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if keyword == "msgctxt":
            finish()
            current = PoEntry(msgid="", msgctxt=ast.literal_eval(rest), fuzzy=fuzzy)
            fuzzy = False
            target = ("msgctxt", 0)
        elif keyword == "msgid":
            if current is None or current.msgstr:
                finish()
                current = PoEntry(msgid="", fuzzy=fuzzy)
                fuzzy = False
            current.msgid = ast.literal_eval(rest)
            target = ("msgid", 0)
        elif keyword == "msgid_plural" and current is not None:
            current.msgid_plural = ast.literal_eval(rest)
            target = ("msgid_plural", 0)
        elif keyword.startswith("msgstr") and current is not None:
            index = int(keyword[7:-1]) if keyword.startswith("msgstr[") else 0
            while len(current.msgstr) <= index:
                current.msgstr.append("")
            current.msgstr[index] = ast.literal_eval(rest)
            target = ("msgstr", index)
        elif line.startswith('"') and current is not None and target is not None:
            text = ast.literal_eval(line)
            name, index = target
            if name == "msgstr":
                current.msgstr[index] += text
            else:
                setattr(current, name, (getattr(current, name) or "") + text)
    finish()
    return entries


def compile_po(po_path: Path, mo_path: Path) -> None:
    """Write the .mo of a catalog; fuzzy and untranslated entries are left out, as msgfmt does."""
    messages: dict[bytes, bytes] = {}
    for entry in read_po(po_path):
        if entry.fuzzy and entry.msgid:
            continue
        key = entry.msgid if entry.msgid_plural is None else f"{entry.msgid}\0{entry.msgid_plural}"
        if entry.msgctxt is not None:
            key = f"{entry.msgctxt}\x04{key}"
        value = "\0".join(entry.msgstr)
        if entry.msgid and not all(entry.msgstr):
            continue
        messages[key.encode("utf-8")] = value.encode("utf-8")
    keys = sorted(messages)
    ids = strs = b""
    offsets = []
    for key in keys:
        offsets.append((len(ids), len(key), len(strs), len(messages[key])))
        ids += key + b"\0"
        strs += messages[key] + b"\0"
    keystart = 7 * 4 + 16 * len(keys)
    valuestart = keystart + len(ids)
    koffsets: list[int] = []
    voffsets: list[int] = []
    for id_offset, id_length, str_offset, str_length in offsets:
        koffsets += [id_length, id_offset + keystart]
        voffsets += [str_length, str_offset + valuestart]
    header = struct.pack("Iiiiiii", 0x950412DE, 0, len(keys), 7 * 4, 7 * 4 + len(keys) * 8, 0, 0)
    mo_path.write_bytes(header + array.array("i", koffsets + voffsets).tobytes() + ids + strs)


def compile_all(locale_dir: Path, *, only_stale: bool = False) -> list[Path]:
    """Compile every catalog under ``locale_dir``; with ``only_stale``, those whose .mo is missing or older."""
    written = []
    for po_path in sorted(locale_dir.glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        if only_stale and mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        compile_po(po_path, mo_path)
        written.append(mo_path)
    return written


if __name__ == "__main__":
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "locale")
    for path in compile_all(root):
        print(f"compiled {path}")
