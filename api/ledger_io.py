"""Hazard ledger files: read an uploaded XLSX/CSV 隐患台账, write it back with the added columns.

The type is sniffed from the content (XLSX = a zip holding xl/workbook.xml; otherwise CSV in
UTF-8, UTF-8-BOM, UTF-16 or GBK/GB18030), never from the name. XLSX output keeps the original
workbook (cells, styles, formulas, other sheets) and adds the columns plus a 汇总 sheet with the
tallies and bar charts. Every error is a LedgerFileError with a Chinese message; outputs are
written to a temp file and renamed, so a failure never leaves half a file.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable
from copy import copy
from dataclasses import dataclass
from pathlib import Path

from assistant.classifier import Classifier
from assistant.ledger import (
    ADDED_COLUMNS,
    EMPTY,
    HEADER_SCAN_ROWS,
    INSUFFICIENT,
    MAJOR,
    RESULT_ZH,
    TALLIED,
    ClassifiedRow,
    LedgerError,
    LedgerResult,
    classify_ledger,
    header_key,
    locate_header,
)

MAX_ROWS = 20000
XLSX, CSV = "xlsx", "csv"
CONTENT_TYPES = {XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 CSV: "text/csv; charset=utf-8"}
SUMMARY_SHEET = "汇总"
_SUMMARY_MARK = ("判定结果", "条数")  # A4:B4 of a summary sheet written here
PREVIEW_ROWS = 50
# Formatted-but-empty rows can run to the sheet's end; this many in a row ends the ledger.
_EMPTY_RUN_END = 1000
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")
_CELL_MAX = 32767  # Excel's limit on characters in a cell
_WIDTHS = {"判定结果": 14, "判定依据": 70, "最相近条款": 45, "待补充信息": 40}
_FILLS = {MAJOR: ("FFC7CE", "9C0006"), INSUFFICIENT: ("FFEB9C", "9C5700")}


class LedgerFileError(LedgerError):
    """The file cannot be read as a ledger (empty, binary, encrypted, corrupt, too many rows)."""


@dataclass
class LedgerFile:
    kind: str  # xlsx | csv
    grid: list[list[object]]  # cell values, row by row from the sheet's first row and column
    raw: bytes
    sheet: str | None = None  # XLSX: the sheet holding the ledger
    delimiter: str = ","


# -- reading ------------------------------------------------------------------------------------
def sniff(data: bytes) -> str:
    """XLSX or CSV from the bytes; raises LedgerFileError for what is neither."""
    if not data or not data.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        raise LedgerFileError("文件为空，请上传填写了隐患的台账（XLSX 或 CSV）。")
    if data.startswith(_OLE_MAGIC):
        if _ENCRYPTION_INFO in data:
            raise LedgerFileError("文件设有打开密码（已加密），无法读取。请在 Excel 中取消密码后另存为 .xlsx 再上传。")
        raise LedgerFileError("这是旧版 Excel（.xls）或其他 Office 文件，暂不支持。请在 Excel 中另存为 .xlsx 或 CSV 后再上传。")
    if data.startswith(b"PK"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            raise LedgerFileError("XLSX 文件已损坏（压缩结构不完整），无法读取。请重新导出后再上传。") from None
        if "xl/workbook.xml" not in names:
            raise LedgerFileError("这是压缩包或其他 Office 文件（如 Word），不是 XLSX 表格。请上传 .xlsx 或 CSV 台账。")
        return XLSX
    return CSV


def read_ledger(data: bytes) -> LedgerFile:
    """Parse an uploaded ledger; the grid is trimmed of trailing empty rows and capped at MAX_ROWS."""
    kind = sniff(data)
    return _read_xlsx(data) if kind == XLSX else _read_csv(data)


def read_ledger_path(path: Path) -> LedgerFile:
    try:
        return read_ledger(Path(path).read_bytes())
    except OSError as exc:
        raise LedgerFileError(f"无法读取文件 {path}：{exc.strerror or exc}") from None


def _too_many_rows(count: int) -> LedgerFileError:
    return LedgerFileError(f"台账行数超过上限：最多 {MAX_ROWS} 行，本文件至少 {count} 行。请拆分为多个文件分批处理。")


def _trim(grid: list[list[object]]) -> list[list[object]]:
    while grid and not any(c is not None and str(c).strip() for c in grid[-1]):
        grid.pop()
    return grid


def _collect(rows: Iterable[Iterable[object]]) -> list[list[object]]:
    grid: list[list[object]] = []
    empty_run = 0
    for row in rows:
        values = list(row)
        if any(c is not None and str(c).strip() for c in values):
            empty_run = 0
        else:
            empty_run += 1
            if empty_run >= _EMPTY_RUN_END:
                break
        grid.append(values)
        # Stop reading early; the exact count (rows below the header) is checked once it is found.
        if empty_run == 0 and len(grid) > MAX_ROWS + HEADER_SCAN_ROWS + 1:
            raise _too_many_rows(len(grid) - HEADER_SCAN_ROWS)
    return _trim(grid)


def _open_workbook(data: bytes, data_only: bool):
    import openpyxl

    try:
        return openpyxl.load_workbook(io.BytesIO(data), data_only=data_only)
    except Exception:  # noqa: BLE001 — openpyxl raises many types (KeyError, lxml, zip, ValueError) on a broken file
        raise LedgerFileError("XLSX 文件已损坏或内容不符合 Excel 格式，无法读取。请在 Excel 中打开并重新保存后再上传。") from None


def _read_xlsx(data: bytes) -> LedgerFile:
    workbook = _open_workbook(data, data_only=True)
    first_error: LedgerError | None = None
    for ws in workbook.worksheets:
        grid = _collect(ws.iter_rows(values_only=True))
        if not grid:
            continue
        try:
            columns = locate_header(grid)
        except LedgerError as exc:
            first_error = first_error or exc
            continue
        _check_row_count(grid, columns.header_row)
        _fill_merged(ws, grid, columns.header_row, (columns.industry, columns.unit))
        return LedgerFile(XLSX, grid, data, sheet=ws.title)
    if first_error is not None:
        raise LedgerFileError(str(first_error))
    raise LedgerFileError("XLSX 文件中没有任何内容（所有工作表都是空的）。")


def _check_row_count(grid: list[list[object]], header_row: int) -> None:
    if len(grid) - header_row - 1 > MAX_ROWS:
        raise _too_many_rows(len(grid) - header_row - 1)


def _fill_merged(ws, grid: list[list[object]], header_row: int, columns: tuple[int | None, ...]) -> None:
    """A unit or industry merged down several rows applies to each of them."""
    wanted = {c for c in columns if c is not None}
    for cells in ws.merged_cells.ranges:
        if cells.min_row - 1 <= header_row:
            continue
        value = grid[cells.min_row - 1][cells.min_col - 1] if cells.min_row - 1 < len(grid) else None
        for r in range(cells.min_row - 1, min(cells.max_row, len(grid))):
            for c in range(cells.min_col - 1, cells.max_col):
                if c in wanted and c < len(grid[r]) and grid[r][c] is None:
                    grid[r][c] = value


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        encodings = ("utf-8-sig",)
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ("utf-16",)
    else:
        if b"\x00" in data[:8192]:
            raise LedgerFileError("无法识别的文件：既不是 XLSX 表格，也不是文本格式的 CSV。")
        encodings = ("utf-8", "gb18030")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        controls = sum(1 for ch in text[:20000] if ord(ch) < 32 and ch not in "\t\r\n")
        if controls > max(2, len(text[:20000]) // 100):
            break
        return text
    raise LedgerFileError("无法识别文件编码，或文件不是文本格式的 CSV。请上传 XLSX，或以 UTF-8 / GBK 编码保存的 CSV。")


def _read_csv(data: bytes) -> LedgerFile:
    text = _decode(data)
    if not text.strip():
        raise LedgerFileError("文件为空，请上传填写了隐患的台账（XLSX 或 CSV）。")
    sample = text[:16384]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter
    except csv.Error:
        delimiter = ","
    if delimiter != "," and sample.count(",") > sample.count(delimiter):
        delimiter = ","
    try:
        grid = _collect(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise LedgerFileError(f"CSV 格式错误，无法解析：{exc}") from None
    if not grid:
        raise LedgerFileError("文件为空，请上传填写了隐患的台账（XLSX 或 CSV）。")
    _check_row_count(grid, locate_header(grid).header_row)
    return LedgerFile(CSV, [list(r) for r in grid], data, delimiter=delimiter)


# -- classifying ---------------------------------------------------------------------------------
def output_kind(source: LedgerFile, out_path: Path | None) -> str:
    """CSV in → CSV out unless the output path ends in .xlsx; XLSX in → XLSX unless it ends in .csv."""
    suffix = out_path.suffix.lower() if out_path is not None else ""
    if suffix == ".xlsx":
        return XLSX
    if suffix == ".csv":
        return CSV
    return source.kind


def process_ledger(classifier: Classifier, source: LedgerFile, out_path: Path, industry: str = "",
                   progress: Callable[[Iterable], Iterable] | None = None, top: int = 10) -> tuple[LedgerResult, float]:
    """Classify every row of `source` and write the result to `out_path`; returns it and the seconds."""
    started = time.perf_counter()
    result = classify_ledger(classifier, source.grid, industry, progress, top)
    write_result(source, result, out_path, output_kind(source, out_path))
    return result, time.perf_counter() - started


# -- writing --------------------------------------------------------------------------------------
def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write via a temp file in the same directory, then rename over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_result(source: LedgerFile, result: LedgerResult, out_path: Path, kind: str) -> None:
    if kind == XLSX:
        atomic_write(out_path, lambda tmp: _write_xlsx(source, result, tmp))
    else:
        atomic_write(out_path, lambda tmp: _write_csv(source, result, tmp))


def _added_positions(headers: list[object], width: int) -> list[int]:
    """0-based columns of ADDED_COLUMNS: reused when the file already has them (a re-run), else appended."""
    keys = [header_key(h) for h in headers]
    positions, next_free = [], width
    for name in ADDED_COLUMNS:
        if name in keys:
            positions.append(keys.index(name))
        else:
            positions.append(next_free)
            next_free += 1
    return positions


def _grid_with_results(source: LedgerFile, result: LedgerResult) -> list[list[object]]:
    grid = [list(r) for r in source.grid]
    header = result.columns.header_row
    width = max(len(r) for r in grid)
    positions = _added_positions(grid[header], width)
    total = max(positions) + 1
    for i, row in enumerate(grid):
        row.extend([None] * (max(total, width) - len(row)))
        if i == header:
            for name, col in zip(ADDED_COLUMNS, positions):
                row[col] = name
        elif i > header:
            for value, col in zip(result.rows[i - header - 1].added_cells(), positions):
                row[col] = value
    return grid


def _write_csv(source: LedgerFile, result: LedgerResult, path: Path) -> None:
    grid = _grid_with_results(source, result)
    # UTF-8 with BOM: Excel opens it as UTF-8 instead of the system code page.
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        for row in grid:
            writer.writerow(["" if c is None else c for c in row])


def _write_xlsx(source: LedgerFile, result: LedgerResult, path: Path) -> None:
    import openpyxl
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if source.kind == XLSX:
        workbook = _open_workbook(source.raw, data_only=False)  # formulas kept as written
        ws = workbook[source.sheet]
    else:
        workbook = openpyxl.Workbook()
        ws = workbook.active
        ws.title = "隐患台账"
        for row in source.grid:
            ws.append([ILLEGAL_CHARACTERS_RE.sub("", c) if isinstance(c, str) else c for c in row])
    _add_result_columns(ws, source, result)
    _add_summary_sheet(workbook, result)
    workbook.save(path)


def _add_result_columns(ws, source: LedgerFile, result: LedgerResult) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    header = result.columns.header_row
    width = max(ws.max_column, max(len(r) for r in source.grid))
    positions = _added_positions(source.grid[header], width)
    template = ws.cell(header + 1, result.columns.description + 1)
    wrap = Alignment(wrap_text=True, vertical="top")
    for name, col in zip(ADDED_COLUMNS, positions):
        cell = ws.cell(header + 1, col + 1, name)
        if template.has_style:
            cell.font, cell.fill, cell.border = copy(template.font), copy(template.fill), copy(template.border)
            cell.alignment = copy(template.alignment)
        else:
            cell.font = Font(bold=True)
        ws.column_dimensions[get_column_letter(col + 1)].width = _WIDTHS[name]
    for row in result.rows:
        r = header + 2 + row.position
        for value, col in zip(row.added_cells(), positions):
            cell = ws.cell(r, col + 1, value[:_CELL_MAX] if value else None)
            cell.alignment = wrap
        if row.label in _FILLS:
            background, colour = _FILLS[row.label]
            cell = ws.cell(r, positions[0] + 1)
            cell.fill = PatternFill("solid", start_color=background, end_color=background)
            cell.font = Font(bold=row.label == MAJOR, color=colour)


def _summary_sheet(workbook):
    """A new summary sheet; one this module wrote before (a re-run) is replaced, a user's 汇总 kept."""
    candidates = [SUMMARY_SHEET] + [f"判定{SUMMARY_SHEET}{n or ''}" for n in (0, *range(2, 100))]
    for name in candidates:
        if name not in workbook.sheetnames:
            return workbook.create_sheet(name)
        old = workbook[name]
        if (old["A4"].value, old["B4"].value) == _SUMMARY_MARK:
            position = workbook.sheetnames.index(name)
            workbook.remove(old)
            return workbook.create_sheet(name, position)
    return workbook.create_sheet()


def _add_summary_sheet(workbook, result: LedgerResult) -> None:
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Alignment, Font

    summary, columns = result.summary, result.columns
    ws = _summary_sheet(workbook)
    bold = Font(bold=True)
    ws["A1"] = summary.headline
    ws["A1"].font = Font(bold=True, size=14)
    described = [f"隐患描述列：{columns.name(columns.description)}"]
    if columns.industry is not None:
        described.append(f"行业列：{columns.name(columns.industry)}")
    if columns.unit is not None:
        described.append(f"单位列：{columns.name(columns.unit)}")
    ws["A2"] = "；".join(described) + f"；不同描述 {summary.distinct_descriptions} 条"

    # Counts by label.
    ws.append([])
    ws.append(list(_SUMMARY_MARK))
    label_header = ws.max_row
    for label in (*TALLIED, "out_of_scope", EMPTY):
        ws.append([RESULT_ZH[label], summary.counts[label]])
    for cell in ws[label_header]:
        cell.font = bold
    chart = BarChart()
    chart.type, chart.title, chart.style = "col", "判定结果分布", 10
    chart.y_axis.title, chart.legend = "条数", None
    chart.add_data(Reference(ws, min_col=2, min_row=label_header, max_row=label_header + len(TALLIED)),
                   titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=label_header + 1, max_row=label_header + len(TALLIED)))
    _show_axes(chart, 16, 7.5)
    ws.add_chart(chart, "J3")

    # By industry.
    ws.append([])
    ws.append(["按行业", *[RESULT_ZH[label] for label in TALLIED], "合计"])
    industry_header = ws.max_row
    for t in summary.by_industry:
        ws.append([t.industry, *[t.counts[label] for label in TALLIED], t.total])
    for cell in ws[industry_header]:
        cell.font = bold
    if summary.by_industry:
        chart = _tally_chart("按行业统计", ws, industry_header, len(summary.by_industry))
        ws.add_chart(chart, "J19")

    # Most-cited clauses.
    ws.append([])
    ws.append(["最常涉及的条款", "条款编号", *[RESULT_ZH[label] for label in TALLIED], "合计"])
    clause_header = ws.max_row
    for t in summary.top_clauses:
        ws.append([t.citation, t.clause_id, *[t.counts[label] for label in TALLIED], t.total])
    for cell in ws[clause_header]:
        cell.font = bold
    if summary.top_clauses:
        chart = BarChart()
        chart.type, chart.title, chart.grouping, chart.overlap = "bar", "最常涉及的条款", "stacked", 100
        chart.add_data(Reference(ws, min_col=3, max_col=2 + len(TALLIED), min_row=clause_header,
                                 max_row=clause_header + len(summary.top_clauses)), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=2, min_row=clause_header + 1,
                                       max_row=clause_header + len(summary.top_clauses)))
        _show_axes(chart, 16, 9)
        ws.add_chart(chart, "J35")
    ws.column_dimensions["A"].width = 60
    ws.column_dimensions["B"].width = 30
    for row in ws.iter_rows(min_row=clause_header + 1):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")


def _show_axes(chart, width: float, height: float) -> None:
    # openpyxl 3.1 leaves the axes' <c:delete> unset and Excel then hides them.
    chart.x_axis.delete = chart.y_axis.delete = False
    chart.width, chart.height = width, height


def _tally_chart(title: str, ws, header_row: int, count: int):
    from openpyxl.chart import BarChart, Reference

    chart = BarChart()
    chart.type, chart.title, chart.grouping, chart.overlap = "col", title, "stacked", 100
    chart.y_axis.title = "条数"
    chart.add_data(Reference(ws, min_col=2, max_col=1 + len(TALLIED), min_row=header_row, max_row=header_row + count),
                   titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=header_row + 1, max_row=header_row + count))
    _show_axes(chart, 16, 7.5)
    return chart


# -- JSON shapes (CLI --json and the API) ---------------------------------------------------------
def row_json(row: ClassifiedRow, columns) -> dict:
    v = row.verdict
    return {
        "row": columns.header_row + 2 + row.position, "unit": row.entry.unit, "industry": row.entry.industry,
        "description": row.entry.description, "label": row.label, "result": row.result, "basis": v.basis,
        "nearest": v.nearest, "questions": list(v.questions),
        "clause_ids": [cid for cid, _ in v.cited], "nearest_clause_ids": list(v.nearest_ids),
    }


def summary_json(result: LedgerResult, source: LedgerFile | None = None, seconds: float | None = None) -> dict:
    s, columns = result.summary, result.columns
    data = {
        "headline": s.headline, "rows": s.rows, "distinct_descriptions": s.distinct_descriptions,
        "counts": [{"label": label, "name": RESULT_ZH[label], "count": s.counts[label]} for label in RESULT_ZH],
        "by_industry": [{"industry": t.industry, "total": t.total, **{k: t.counts[k] for k in TALLIED}}
                        for t in s.by_industry],
        "top_clauses": [{"clause_id": t.clause_id, "citation": t.citation, "total": t.total,
                         **{k: t.counts[k] for k in TALLIED}} for t in s.top_clauses],
        "columns": {"sheet": source.sheet if source else None, "header_row": columns.header_row + 1,
                    "description": columns.name(columns.description), "industry": columns.name(columns.industry),
                    "unit": columns.name(columns.unit)},
    }
    if seconds is not None:
        data["seconds"] = round(seconds, 2)
    return data


def preview_json(result: LedgerResult, limit: int = PREVIEW_ROWS) -> list[dict]:
    return [row_json(r, result.columns) for r in result.rows[:limit]]

