"""The two file formats of an export, both written row by row so memory stays bounded whatever the row count.

CSV is streamed to the client as it is produced. XLSX is a zip that can only be finished at the end: openpyxl's
write-only workbook writes each row to a temporary file on disk (not to memory), and the finished file is then
streamed from disk. Text that a spreadsheet would run as a formula (a leading ``= + - @``) is quoted with ``'``.
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import IO, Any

from openpyxl import Workbook

FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """One value as a spreadsheet cell: numbers stay numbers, text is made safe, None is empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | Decimal):
        return value
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


class _Line:
    """A file-like object whose write() hands back what csv.writer wrote for one row."""

    def write(self, value: str) -> str:
        return value


def csv_stream(header: list[str], rows: Iterable[list[Any]]) -> Iterator[bytes]:
    """The CSV file, one encoded line at a time (with a BOM so spreadsheet programs read UTF-8)."""
    writer = csv.writer(_Line())
    yield ("\ufeff" + writer.writerow(header)).encode()
    for row in rows:
        yield writer.writerow([cell(value) for value in row]).encode()


def xlsx_file(header: list[str], rows: Iterable[list[Any]], *, title: str) -> IO[bytes]:
    """The XLSX file in a temporary file (deleted when closed), positioned at its start."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31] or "Export")
    sheet.append(header)
    for row in rows:
        sheet.append([cell(value) for value in row])
    output = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the response, which closes it
    workbook.save(output)
    output.seek(0)
    return output
