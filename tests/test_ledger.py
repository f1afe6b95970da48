"""Hazard ledgers: column detection and tallies (pure), then whole files through the CLI and the
API over the real index — an XLSX with a title row and a CSV in GBK, and the bad files users send."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from urllib.parse import unquote

import openpyxl
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from api import settings as settings_module
from api.app import create_app
from api.cli import main
from api.ledger_io import MAX_ROWS, read_ledger
from api.settings import Settings
from assistant.classifier import GENERAL, INSUFFICIENT, MAJOR
from assistant.ledger import (
    ADDED_COLUMNS,
    EMPTY,
    NO_INDUSTRY,
    ClassifiedRow,
    LedgerClassifier,
    LedgerEntry,
    LedgerError,
    Verdict,
    find_columns,
    headline,
    locate_header,
    summarize,
)

HAN = re.compile(r"[\u4e00-\u9fff]")
PROBLEM = "application/problem+json"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# -- column detection (pure) ----------------------------------------------------------------------
def test_description_column_found_despite_numbering_spaces_and_full_width():
    columns = find_columns(["序号", "单位名称", "３．隐患 描述", "整改措施"])
    assert columns.description == 2


@pytest.mark.parametrize("header", ["隐患内容", "问题描述", "存在问题", "隐患情况", "检查发现的问题",
                                    "（二）存在的问题", "隐患描述（必填）*", "一、隐患描述"])
def test_common_description_headers_are_recognised(header):
    assert find_columns(["序号", "检查日期", header, "整改期限"]).description == 2


def test_exact_description_name_beats_related_columns():
    # 隐患等级/隐患部位 mention 隐患 but do not describe it; 问题描述 is the exact name.
    columns = find_columns(["隐患等级", "隐患部位", "问题描述", "整改要求"])
    assert columns.description == 2


def test_equally_named_columns_go_to_the_one_with_longer_texts():
    sample = [["A", "脚手架连墙件缺失，立杆悬空"], ["B", "配电箱无门，电线私拉乱接"]]
    assert find_columns(["隐患", "问题"], sample).description == 1
    assert find_columns(["问题", "隐患"], [[r[1], r[0]] for r in sample]).description == 0


def test_industry_and_unit_columns_are_found_and_the_inspecting_unit_is_not_the_unit():
    columns = find_columns(["检查单位", "企业名称", "行业类别", "隐患描述"])
    assert (columns.unit, columns.industry, columns.description) == (1, 2, 3)
    assert find_columns(["检查单位", "隐患描述"]).unit is None


def test_header_row_below_a_title_row_is_found():
    grid = [["某区2024年安全生产隐患排查台账", None, None], [None, None, None],
            ["序号", "隐患内容", "所属行业"], [1, "楼梯扶手松动", "商贸"]]
    columns = locate_header(grid)
    assert (columns.header_row, columns.description, columns.industry) == (2, 1, 2)


def test_single_column_ledger_header_is_found_but_a_lone_title_is_not():
    grid = [["某公司隐患排查台账"], ["隐患描述"], ["楼梯扶手松动"]]
    assert locate_header(grid).header_row == 1
    with pytest.raises(LedgerError):
        locate_header([["某公司隐患排查台账"], ["楼梯扶手松动"]])


def test_missing_description_column_is_a_chinese_error_listing_the_headers():
    with pytest.raises(LedgerError) as err:
        locate_header([["序号", "单位名称", "检查日期"], [1, "甲公司", "2024-05-01"]])
    message = str(err.value)
    assert "未找到隐患描述列" in message
    for header in ("序号", "单位名称", "检查日期"):
        assert header in message


# -- tallies (pure) -----------------------------------------------------------------------------------
def _row(position: int, label: str, industry: str = NO_INDUSTRY, cited: tuple = ()) -> ClassifiedRow:
    return ClassifiedRow(position, LedgerEntry("x" if label != EMPTY else ""), industry,
                         Verdict(label, "", "", (), cited))


def test_summary_counts_by_label_industry_and_clause():
    c1, c2, c3 = ("doc:1", "《甲》第一条"), ("doc:2", "《甲》第二条"), ("doc:3", "《甲》第三条")
    rows = [_row(0, MAJOR, "冶金", (c1,)), _row(1, GENERAL, "冶金", (c2,)), _row(2, GENERAL, "商贸", (c2,)),
            _row(3, INSUFFICIENT, "商贸", (c1,)), _row(4, EMPTY), _row(5, GENERAL, "商贸", (c3,))]
    summary = summarize(rows, top=2)
    assert summary.rows == 6
    assert summary.counts == {MAJOR: 1, GENERAL: 3, INSUFFICIENT: 1, "out_of_scope": 0, EMPTY: 1}
    # The industry with a major hazard first, whatever its size; empty rows are not tallied.
    assert [(t.industry, t.total, t.counts[MAJOR]) for t in summary.by_industry] == [("冶金", 2, 1), ("商贸", 3, 0)]
    # Top 2 of 3 clauses: c1 and c2 are cited twice each, c1 first because it decided a major.
    assert [(t.clause_id, t.total, t.counts[MAJOR]) for t in summary.top_clauses] == [("doc:1", 2, 1), ("doc:2", 2, 0)]
    assert summary.headline == "共 6 条：重大事故隐患 1 条、一般事故隐患 3 条、待补充信息 1 条；另有空行 1 条"


def test_headline_without_other_rows_has_no_tail():
    assert headline(1000, {MAJOR: 12, GENERAL: 900, INSUFFICIENT: 88}) == \
        "共 1000 条：重大事故隐患 12 条、一般事故隐患 900 条、待补充信息 88 条"


# -- the real classifier ------------------------------------------------------------------------
AMMONIA = "冷库用液氨制冷，快速冻结装置没有设在单独的作业间内，作业间里有15人"  # 工贸 第十二条第（二）项
CONFINED = "污水池清淤作业前没有通风检测就让工人下去了"  # 工贸 第十三条第（二）项
OIL = "车间地面有油污，通道堆放杂物"
CHAT = "今天开会讨论了明年的预算"


@pytest.fixture(scope="module")
def classifier(real_index):
    from api.services import build_classifier

    built = build_classifier(real_index, Settings(llm_base_url=""))
    return built


@pytest.mark.corpus
def test_identical_descriptions_are_classified_once(classifier, monkeypatch):
    calls = []
    real_classify = classifier.classify
    monkeypatch.setattr(classifier, "classify", lambda text, profile=None: calls.append(text) or
                        real_classify(text, profile))
    rows = [LedgerEntry(OIL), LedgerEntry("车间地面有油污， 通道堆放杂物"), LedgerEntry(""), LedgerEntry(OIL),
            LedgerEntry(AMMONIA)]
    out = LedgerClassifier(classifier).classify_rows(rows)
    assert len(calls) == 2  # the spaced variant normalizes to the same description
    assert [r.position for r in out] == [0, 1, 2, 3, 4]
    assert out[0].verdict == out[1].verdict == out[3].verdict
    assert out[2].label == EMPTY and out[4].label == MAJOR


@pytest.mark.corpus
def test_row_industry_goes_to_the_classifier_and_to_the_tally(classifier):
    ledger = LedgerClassifier(classifier, default_industry="")
    row = ledger.classify_row(0, LedgerEntry(OIL, industry="化工企业"))
    assert row.industry == "、".join(classifier.canonical_industries("化工企业"))
    assert row.industry != NO_INDUSTRY
    assert ledger.classify_row(1, LedgerEntry(OIL)).industry == NO_INDUSTRY


# -- files: an XLSX with a title row, through the CLI and the API --------------------------------------
LEDGER_ROWS = [
    (1, "甲冷链物流公司", "商贸", AMMONIA, "一般", "限期整改"),
    (2, "乙食品厂", "轻工", OIL, "", ""),
    (None, None, None, None, None, None),
    (4, "丙污水处理厂", "", CONFINED, "", ""),
    (5, "乙食品厂", "轻工", OIL, "", ""),
    (6, "戊公司", "", CHAT, "", ""),
    (None, None, None, None, None, None),
    (8, "丁机械厂", "机械", "配电箱门坏了，电线私拉乱接", "", ""),
]
TITLE = "2024年第三季度安全隐患排查台账"
HEADERS = ["序号", "被检查单位", "所属行业", "3.隐患描述", "隐患等级", "整改措施"]


def make_xlsx(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "台账"
    ws["A1"] = TITLE
    ws.merge_cells("A1:F1")
    ws.append(HEADERS)
    for row in LEDGER_ROWS:
        ws.append(list(row))
    wb.create_sheet("说明")["A1"] = "本表由安全员填写"
    wb.save(path)
    return path


def make_gbk_csv(path: Path) -> Path:
    lines = ["单位名称,行业,问题描述"] + [f"{r[1] or ''},{r[2] or ''},{r[3] or ''}" for r in LEDGER_ROWS]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    return path


@pytest.fixture
def run(real_index, monkeypatch):
    monkeypatch.setenv("HAZARD_DATA_DIR", str(real_index.path.parent.parent))
    monkeypatch.setenv("HAZARD_LLM_BASE_URL", "")
    settings_module.get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(main, list(args), catch_exceptions=False)
    settings_module.get_settings.cache_clear()


def assert_result_sheet(ws, real_index) -> dict[int, tuple]:
    """Original cells untouched, the four columns added, one verdict per row; returns row → added cells."""
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == TITLE
    assert list(rows[1][:6]) == HEADERS and list(rows[1][6:10]) == list(ADDED_COLUMNS)
    data = rows[2:]
    assert len(data) == len(LEDGER_ROWS)
    assert [r[3] for r in data] == [r[3] for r in LEDGER_ROWS]  # same rows, same order
    added = {i: tuple(r[6:10]) for i, r in enumerate(data)}
    results = [a[0] for a in added.values()]
    assert results[2] == results[6] == "空行"
    assert results[0] == "重大事故隐患" and results[3] == "重大事故隐患"
    assert results[5] == "非安全隐患描述"
    assert added[1] == added[4]  # duplicate description, same verdict
    assert results[1] in ("一般事故隐患", "待补充信息")
    # The basis of a major row quotes its clause verbatim from the store.
    assert real_index.store.clause("gongmao-major-hazard:12:2").text in added[0][1]
    assert real_index.store.clause("gongmao-major-hazard:13:2").text in added[3][1]
    return added


@pytest.mark.corpus
def test_cli_xlsx_with_title_row_gets_result_columns_summary_sheet_and_chart(run, tmp_path, real_index):
    source = make_xlsx(tmp_path / "台账.xlsx")
    out = tmp_path / "结果.xlsx"
    result = run("ledger", str(source), "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["rows"] == len(LEDGER_ROWS)
    counts = {c["label"]: c["count"] for c in summary["counts"]}
    assert counts[MAJOR] == 2 and counts[EMPTY] == 2 and counts["out_of_scope"] == 1
    assert sum(counts.values()) == len(LEDGER_ROWS)
    assert summary["columns"] == {"sheet": "台账", "header_row": 2, "description": "3.隐患描述",
                                  "industry": "所属行业", "unit": "被检查单位"}
    assert summary["distinct_descriptions"] == 5  # 6 descriptions, one repeated
    cited = {c["clause_id"] for c in summary["top_clauses"]}
    assert {"gongmao-major-hazard:12:2", "gongmao-major-hazard:13:2"} <= cited

    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["台账", "说明", "汇总"]
    assert [str(r) for r in wb["台账"].merged_cells.ranges] == ["A1:F1"]
    assert_result_sheet(wb["台账"], real_index)
    tally = wb["汇总"]
    assert tally["A1"].value == summary["headline"]
    assert tally._charts, "the summary sheet embeds a chart"
    values = [r for r in tally.iter_rows(values_only=True)]
    assert ("重大事故隐患", 2) in [r[:2] for r in values]
    assert any(r[0] == "商贸" and r[1] == 1 for r in values)  # the ammonia row's industry, one major


@pytest.mark.corpus
def test_cli_gbk_csv_comes_back_as_utf8_bom_csv(run, tmp_path, real_index):
    source = make_gbk_csv(tmp_path / "台账.csv")
    out = tmp_path / "结果.csv"
    result = run("ledger", str(source), "--out", str(out), "--quiet")
    assert result.exit_code == 0, result.output
    assert "共 8 条：重大事故隐患 2 条" in result.stdout
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    import csv

    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["单位名称", "行业", "问题描述", *ADDED_COLUMNS]
    assert [r[2] for r in rows[1:]] == [r[3] or "" for r in LEDGER_ROWS]
    assert rows[1][3] == "重大事故隐患" and rows[3][3] == "空行"


@pytest.mark.corpus
def test_cli_bad_file_fails_in_chinese_without_writing_output(run, tmp_path):
    bad = tmp_path / "台账.xlsx"
    bad.write_bytes(b"")
    out = tmp_path / "out.xlsx"
    result = run("ledger", str(bad), "--out", str(out))
    assert result.exit_code == 2
    assert "文件为空" in result.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == [bad]


# -- the API --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("ledger-data")


@pytest.fixture(scope="module")
def client(real_index, data_dir):
    app = create_app(Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'chat.sqlite3'}",
                              llm_base_url=""), index_loader=lambda s: real_index)
    with TestClient(app) as c:
        yield c


def upload(client, content: bytes, filename: str = "台账.xlsx", **form):
    return client.post("/v1/ledgers", files={"file": (filename, content, "application/octet-stream")}, data=form)


def assert_problem(response, status: int, *parts: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    detail = response.json()["detail"]
    assert HAN.search(detail), detail
    for part in parts:
        assert part in detail, detail


@pytest.mark.corpus
def test_api_upload_summary_preview_and_download(client, tmp_path, real_index, data_dir):
    from test_api import Call, validate_against_openapi

    openapi = client.get("/openapi.json").json()
    content = make_xlsx(tmp_path / "in.xlsx").read_bytes()
    response = upload(client, content, filename="三季度 台账.xlsx")
    validate_against_openapi(openapi, Call("post", "/v1/ledgers", "/v1/ledgers", 201), response)
    body = response.json()
    assert body["rows"] == len(LEDGER_ROWS) and body["headline"].startswith("共 8 条：重大事故隐患 2 条")
    assert body["summary"]["headline"] == body["headline"]
    preview = body["preview"]
    assert [p["row"] for p in preview] == list(range(3, 3 + len(LEDGER_ROWS)))  # sheet row numbers
    assert [p["description"] for p in preview] == [r[3] or "" for r in LEDGER_ROWS]
    assert preview[0]["label"] == MAJOR and preview[0]["clause_ids"] == ["gongmao-major-hazard:12:2"]
    assert preview[0]["unit"] == "甲冷链物流公司" and preview[0]["industry"] == "商贸"
    for clause_id in (cid for p in preview for cid in p["clause_ids"] + p["nearest_clause_ids"]):
        real_index.store.clause(clause_id)  # every cited clause resolves

    again = client.get(f"/v1/ledgers/{body['id']}")
    validate_against_openapi(openapi, Call("get", "/v1/ledgers/x", "/v1/ledgers/{ledger_id}", 200), again)
    assert again.json() == body

    download = client.get(body["download_url"])
    assert download.status_code == 200
    assert download.headers["content-type"] == XLSX_TYPE
    disposition = download.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    encoded = re.search(r"filename\*=UTF-8''(\S+)", disposition).group(1)
    assert unquote(encoded) == "三季度 台账-判定结果.xlsx" == body["result_filename"]
    wb = openpyxl.load_workbook(io.BytesIO(download.content))
    assert_result_sheet(wb["台账"], real_index)
    assert wb["汇总"]._charts
    assert not [p for p in (data_dir / "ledgers").iterdir() if p.name.startswith(".")]  # no staging left

    # Running the result through again overwrites its own columns instead of adding four more.
    rerun = client.get(upload(client, download.content, filename="again.xlsx").json()["download_url"])
    rerun_wb = openpyxl.load_workbook(io.BytesIO(rerun.content))
    assert_result_sheet(rerun_wb["台账"], real_index)
    assert rerun_wb["台账"].max_column == 10
    assert rerun_wb.sheetnames == ["台账", "说明", "汇总"]  # its own summary replaced


@pytest.mark.corpus
def test_api_sniffs_the_content_not_the_name_and_uses_the_default_industry(client, tmp_path):
    csv_bytes = make_gbk_csv(tmp_path / "in.csv").read_bytes()
    body = upload(client, csv_bytes, filename="台账.xlsx", industry="冶金").json()
    assert body["result_filename"] == "台账-判定结果.csv"
    assert body["summary"]["columns"]["sheet"] is None
    download = client.get(body["download_url"])
    assert download.headers["content-type"].startswith("text/csv")
    assert download.content.startswith(b"\xef\xbb\xbf")
    # Rows with an industry keep it; the others (丙污水处理厂, 戊公司) fall back to 冶金.
    industries = {t["industry"] for t in body["summary"]["by_industry"]}
    assert "冶金" in industries and NO_INDUSTRY not in industries

    xlsx_bytes = make_xlsx(tmp_path / "in.xlsx").read_bytes()
    assert upload(client, xlsx_bytes, filename="ledger.csv").json()["result_filename"] == "ledger-判定结果.xlsx"


def _encrypted_xlsx(tmp_path: Path) -> bytes:
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    with open(make_xlsx(tmp_path / "plain.xlsx"), "rb") as f:
        OOXMLFile(f).encrypt("secret", out)
    return out.getvalue()


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, content in entries.items():
            z.writestr(name, content)
    return buffer.getvalue()


BAD_FILES = {
    "empty": (lambda tmp: b"", "文件为空"),
    "random bytes": (lambda tmp: bytes(range(256)) * 64, "无法识别"),
    "encrypted xlsx": (_encrypted_xlsx, "加密"),
    "truncated xlsx": (lambda tmp: make_xlsx(tmp / "t.xlsx").read_bytes()[:3000], "损坏"),
    "xlsx with broken workbook": (lambda tmp: _zip({"xl/workbook.xml": b"<not-xml", "[Content_Types].xml": b"x"}),
                                  "损坏"),
    "word document": (lambda tmp: _zip({"word/document.xml": b"<w/>", "[Content_Types].xml": b"x"}), "不是 XLSX"),
    "no description column": (lambda tmp: "序号,单位名称,检查日期\n1,甲公司,2024-05-01\n".encode(), "检查日期"),
    "header only": (lambda tmp: "单位名称,隐患描述\n".encode("utf-8-sig"), "台账为空"),
    "too many rows": (lambda tmp: ("隐患描述\n" + "楼梯扶手松动\n" * (MAX_ROWS + 1)).encode(), "上限"),
}


@pytest.mark.corpus
@pytest.mark.parametrize("case", list(BAD_FILES))
def test_api_bad_files_are_clear_chinese_errors(client, tmp_path, data_dir, case):
    make, expected = BAD_FILES[case]
    before = sorted(p.name for p in (data_dir / "ledgers").glob("*")) if (data_dir / "ledgers").exists() else []
    assert_problem(upload(client, make(tmp_path)), 422, expected)
    after = sorted(p.name for p in (data_dir / "ledgers").glob("*")) if (data_dir / "ledgers").exists() else []
    assert after == before  # nothing stored, no staging folder left


def test_reading_a_gbk_csv_decodes_its_chinese(tmp_path):
    ledger = read_ledger(make_gbk_csv(tmp_path / "in.csv").read_bytes())
    assert ledger.kind == "csv" and ledger.grid[0] == ["单位名称", "行业", "问题描述"]
    assert ledger.grid[1][2] == AMMONIA


def test_reading_a_tab_separated_export():
    ledger = read_ledger("序号\t隐患描述\t行业\n1\t楼梯扶手松动，有人扶着差点摔倒\t商贸\n".encode())
    assert ledger.delimiter == "\t"
    assert ledger.grid[1] == ["1", "楼梯扶手松动，有人扶着差点摔倒", "商贸"]


def test_xlsx_ledger_on_a_later_sheet_with_a_merged_unit_cell():
    wb = openpyxl.Workbook()
    wb.active.title = "填表说明"
    wb.active["A1"] = "请逐条填写检查发现的隐患，一行一条。"
    ws = wb.create_sheet("台账")
    ws.append(["单位名称", "隐患描述"])
    ws.append(["甲公司", "楼梯扶手松动"])
    ws.append([None, "灭火器过期"])
    ws.append(["乙公司", "通道堆放杂物"])
    ws.merge_cells("A2:A3")  # one unit, two findings
    buffer = io.BytesIO()
    wb.save(buffer)
    ledger = read_ledger(buffer.getvalue())
    assert ledger.kind == "xlsx" and ledger.sheet == "台账"
    assert [r[0] for r in ledger.grid[1:]] == ["甲公司", "甲公司", "乙公司"]


@pytest.mark.corpus
def test_upload_over_the_size_cap_is_413(real_index, tmp_path):
    app = create_app(Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'c.sqlite3'}",
                              llm_base_url="", max_upload_bytes=4096), index_loader=lambda s: real_index)
    with TestClient(app) as small:
        response = upload(small, ("隐患描述\n" + "楼梯扶手松动\n" * 1000).encode(), filename="big.csv")
    assert_problem(response, 413, "上限")
    assert not (tmp_path / "ledgers").exists() or not any((tmp_path / "ledgers").iterdir())


@pytest.mark.corpus
@pytest.mark.parametrize("ledger_id", ["0" * 32, "..%2F..%2Fetc", "not-an-id"])
def test_unknown_ledger_is_404_in_chinese(client, ledger_id):
    assert_problem(client.get(f"/v1/ledgers/{ledger_id}"), 404, "未找到")
    assert_problem(client.get(f"/v1/ledgers/{ledger_id}/file"), 404, "未找到")


@pytest.mark.corpus
def test_upload_without_a_file_is_a_validation_problem(client):
    assert_problem(client.post("/v1/ledgers", data={"industry": "冶金"}), 422, "file")
