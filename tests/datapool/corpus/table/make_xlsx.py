"""Write the XLSX files of this corpus (run once; the files are committed).

    .venv/bin/python tests/datapool/corpus/table/make_xlsx.py

openpyxl stores formulas without a cached result; the second workbook gets one
patched into its sheet XML, as Excel would have saved it.
"""

import re
import zipfile
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
SHEET_XML = "xl/worksheets/sheet1.xml"


def _workbook() -> Workbook:
    book = Workbook()
    sheet = book.active
    sheet.title = "Einwohner"
    sheet.append(["id", "inhabitants", "inhabitants_twice"])
    sheet.append(["01100101", 3580, 7160])
    sheet.append(["01100102", 2034, "=B3*2"])
    sheet.append(["01100103", 5790, 11580])
    return book


def _with_cached_value(path: Path, coordinate: str, value: str) -> None:
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    xml = parts[SHEET_XML].decode("utf-8")
    xml, count = re.subn(
        rf'(<c r="{coordinate}"[^>]*>\s*<f>[^<]*</f>)\s*(<v\s*/>|<v>\s*</v>)?',
        rf"\1<v>{value}</v>",
        xml,
    )
    assert count == 1, "formula cell not found"
    parts[SHEET_XML] = xml.encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)


def main() -> None:
    _workbook().save(HERE / "formula_without_value.xlsx")
    cached = HERE / "formula_with_cached_value.xlsx"
    _workbook().save(cached)
    _with_cached_value(cached, "C3", "4068")


if __name__ == "__main__":
    main()
