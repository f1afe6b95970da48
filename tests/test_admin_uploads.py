"""POST /v1/admin/documents: what is refused (and that nothing is written then), what is accepted,
and that an accepted document is searchable after the background rebuild — over a made-up corpus."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from ops_corpus import DOC_A, UPLOADED, bm25_settings, ingest_bm25, write_corpus
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from api.app import create_app
from ingest import generations as gen
from ingest.pipeline import UPLOAD_NOTE

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))
PDF_TITLE = "测试行业丁动火作业规定"
PDF_LINES = [PDF_TITLE, "第一条 动火作业应当办理动火作业许可证。", "第二条 动火作业现场应当配备灭火器材。"]


def make_pdf(pages: list[list[str]]) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    for lines in pages:
        c.setFont(FONT, 12)
        y = 800
        for line in lines:
            c.drawString(50, y, line)
            y -= 18
        c.showPage()
    c.save()
    return buf.getvalue()


def make_docx(paragraphs: list[str]) -> bytes:
    import docx

    document = docx.Document()
    for p in paragraphs:
        document.add_paragraph(p)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


@pytest.fixture
def admin(tmp_path):
    """An app over a two-document corpus, its data dir, and a client (lifespan running)."""
    corpus, data = write_corpus(tmp_path / "corpus"), tmp_path / "data"
    ingest_bm25(corpus, data)
    settings = bm25_settings(corpus, data, max_upload_pages=3, max_upload_bytes=2 * 1024 * 1024,
                             max_upload_unzipped_bytes=5 * 1024 * 1024)
    with TestClient(create_app(settings)) as client:
        yield client, data


def upload(client, name: str, data: bytes):
    return client.post("/v1/admin/documents", files={"file": (name, data, "application/octet-stream")})


def wait_finished(client, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get("/v1/admin/ingest").json()
        if status["state"] in ("finished", "failed") and not status["queued"]:
            return status
        time.sleep(0.1)
    raise AssertionError("rebuild did not finish")


def _nothing_written(data: Path, before: set[str]) -> None:
    assert not (data / "uploads").exists() or not [p for p in (data / "uploads").rglob("*") if p.is_file()]
    assert {p.name for p in data.iterdir()} == before  # no status file, no new folder


def _encrypted_pdf() -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf([PDF_LINES]))))
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def _image_only_pdf() -> bytes:
    from PIL import Image
    from reportlab.lib.utils import ImageReader

    png = io.BytesIO()
    Image.new("RGB", (200, 100), "white").save(png, format="PNG")
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.drawImage(ImageReader(io.BytesIO(png.getvalue())), 50, 500, width=400, height=200)
    c.showPage()
    c.save()
    return buf.getvalue()


def _zip_bomb() -> bytes:
    # A DOCX-shaped zip whose one entry expands 6 MiB of zeros from a few KiB.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"\0" * (6 * 1024 * 1024))
    return buf.getvalue()


def _high_ratio_docx() -> bytes:
    # Under the total limit, but one entry is compressed more than 100 times: a bomb's signature.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", "<w:document/>")
        z.writestr("word/media/blob.bin", b"\0" * (2 * 1024 * 1024))
    return buf.getvalue()


def _plain_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("notes.txt", "不是DOCX")
    return buf.getvalue()


def _docx_with_pages(pages: int) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(make_docx(["第一条 测试。"])))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "docProps/app.xml":
                data = b'<?xml version="1.0"?><Properties><Pages>%d</Pages></Properties>' % pages
            z.writestr(item, data)
        if "docProps/app.xml" not in src.namelist():
            z.writestr("docProps/app.xml", b"<Properties><Pages>%d</Pages></Properties>" % pages)
    return buf.getvalue()


REFUSALS = [
    ("empty.md", b"", 422, "为空"),
    ("photo.pdf", b"\x89PNG\r\n\x1a\n" + b"\0" * 100, 422, "图片"),
    ("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, 422, "旧版Word"),
    ("locked.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "EncryptedPackage".encode("utf-16-le"), 422, "加密"),
    ("gbk.md", "---\ntitle: 测试\n---\n第一条 测试。".encode("gbk"), 422, "UTF-8"),
    ("binary.md", b"\0\1\2\3" * 50, 422, "二进制"),
    ("nofront.md", "# 标题\n\n第一条 测试。\n".encode(), 422, "文件头"),
    ("notitle.md", "---\nkind: 部门规章\n---\n第一条 测试。\n".encode(), 422, "title"),
    ("prose.md", "---\ntitle: 一篇散文\n---\n今天天气很好，我们去公园散步。\n".encode(), 422, "条款"),
    ("badslug.md", "---\ntitle: 测试\nslug: ../../etc\n---\n第一条 测试。\n".encode(), 422, "slug"),
    ("broken.pdf", b"%PDF-1.7\n" + b"garbage" * 100, 422, "损坏"),
    ("broken.docx", b"PK\x03\x04" + b"garbage" * 100, 422, "损坏"),
    ("archive.docx", None, 422, "word/document.xml"),
    ("bomb.docx", None, 422, "压缩炸弹"),
    ("ratio.docx", None, 422, "压缩比"),
    ("locked.pdf", None, 422, "加密"),
    ("scan.pdf", None, 422, "扫描件"),
    ("long.pdf", None, 413, "页数过多"),
    ("long.docx", None, 413, "页数过多"),
    ("test-a.md", DOC_A.encode(), 409, "已在语料目录中"),
]
BUILT = {"archive.docx": _plain_zip, "bomb.docx": _zip_bomb, "ratio.docx": _high_ratio_docx,
         "locked.pdf": _encrypted_pdf, "scan.pdf": _image_only_pdf,
         "long.pdf": lambda: make_pdf([PDF_LINES] * 4), "long.docx": lambda: _docx_with_pages(9)}


@pytest.mark.parametrize("name,data,status,words", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refused_upload_is_a_chinese_problem_and_writes_nothing(admin, name, data, status, words):
    client, data_dir = admin
    before = {p.name for p in data_dir.iterdir()}
    current = gen.current_name(data_dir)
    response = upload(client, name, data if data is not None else BUILT[name]())
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert words in response.json()["detail"]
    _nothing_written(data_dir, before)
    assert gen.current_name(data_dir) == current
    assert client.get("/v1/admin/ingest").json()["state"] == "idle"


def test_body_over_the_upload_cap_is_413_before_parsing(admin):
    client, data_dir = admin
    before = {p.name for p in data_dir.iterdir()}
    response = upload(client, "huge.md", b"---\ntitle: x\n---\n" + b"a" * (3 * 1024 * 1024))
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    _nothing_written(data_dir, before)


def test_markdown_upload_is_indexed_unverified_and_searchable(admin):
    client, _ = admin
    assert client.get("/v1/search", params={"q": "氢氟酸储罐"}).json()["results"] == []
    response = upload(client, "whatever-name.md", UPLOADED.encode())
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["document"]["name"] == "test-hf-storage.md"  # named by its slug, not the client's name
    [doc] = body["document"]["documents"]
    assert (doc["slug"], doc["clauses"], doc["in_manifest"]) == ("test-hf-storage", 2, False)
    assert doc["status_note"].startswith(UPLOAD_NOTE)
    assert body["ingest"]["trigger"] == "upload"
    status = wait_finished(client)
    assert status["state"] == "finished" and status["changed"] and status["counts"].get("新增") == 1
    assert status["built"] == status["generation"] != status["previous_generation"]
    # The app switches to the new generation by itself (the watcher or the runner's callback).
    deadline = time.monotonic() + 10
    while client.get("/readyz").json()["generation"] != status["generation"] and time.monotonic() < deadline:
        time.sleep(0.1)
    hits = client.get("/v1/search", params={"q": "氢氟酸储罐"}).json()["results"]
    assert hits and hits[0]["clause_id"] == "test-hf-storage:1"
    documents = {d["slug"]: d for d in client.get("/v1/documents").json()}
    assert documents["test-hf-storage"]["status_note"].startswith(UPLOAD_NOTE)
    listed = client.get("/v1/admin/documents").json()["uploads"]
    assert [(u["name"], u["documents"]) for u in listed] == [("test-hf-storage.md", ["test-hf-storage"])]


def test_pdf_and_docx_uploads_are_accepted_and_a_deleted_upload_leaves_the_index(admin):
    client, _ = admin
    pdf = upload(client, "dong huo.pdf", make_pdf([PDF_LINES]))
    assert pdf.status_code == 202, pdf.text
    assert pdf.json()["document"]["format"] == "pdf" and pdf.json()["document"]["pages"] == 1
    assert pdf.json()["document"]["name"] == "dong-huo.pdf"
    wait_finished(client)
    docx_bytes = make_docx(["测试行业戊受限空间规定", "第一条 进入受限空间作业前应当先通风、再检测。"])
    response = upload(client, "受限空间.docx", docx_bytes)  # a non-ASCII name: the slug comes from the hash
    assert response.status_code == 202, response.text
    docx_name = response.json()["document"]["name"]
    assert docx_name.startswith("upload-") and docx_name.endswith(".docx")
    wait_finished(client)
    client.post("/v1/admin/reindex")  # no change: the rebuild is a no-op and the generation stays
    status = wait_finished(client)
    assert status["changed"] is False and status["built"] == status["generation"]
    _switched(client, status["generation"])
    assert client.get("/v1/search", params={"q": "动火作业许可证"}).json()["results"][0]["clause_id"] == "dong-huo:1"
    assert client.get("/v1/search", params={"q": "受限空间通风"}).json()["results"][0]["clause_id"] \
        == docx_name.removesuffix(".docx") + ":1"
    assert client.delete("/v1/admin/documents/dong-huo.pdf").status_code == 202
    status = wait_finished(client)
    assert status["counts"].get("删除") == 1
    _switched(client, status["generation"])
    hits = client.get("/v1/search", params={"q": "动火作业许可证"}).json()["results"]
    assert all(not h["clause_id"].startswith("dong-huo") for h in hits)
    missing = client.delete("/v1/admin/documents/dong-huo.pdf")
    assert missing.status_code == 404 and "未找到" in missing.json()["detail"]


def _switched(client, generation: str) -> None:
    deadline = time.monotonic() + 10
    while client.get("/readyz").json()["generation"] != generation:
        assert time.monotonic() < deadline, "the app did not switch to the new generation"
        time.sleep(0.1)


def test_hazard_ingest_keeps_uploaded_documents(admin, tmp_path):
    """The CLI's ingest reads the uploads folder too, so it never drops an admin's upload."""
    from click.testing import CliRunner

    from api.cli import main
    from api.settings import get_settings

    client, data_dir = admin
    assert upload(client, "x.md", UPLOADED.encode()).status_code == 202
    wait_finished(client)
    (tmp_path / "corpus" / "test-b.md").unlink()
    env = {"HAZARD_DATA_DIR": str(data_dir), "HAZARD_CORPUS_DIR": str(tmp_path / "corpus"), "HAZARD_EMBEDDINGS": "none"}
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main, ["ingest", "--quiet"], env=env)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    from ingest.index import open_index

    documents = open_index(data_dir).store.documents
    assert "test-hf-storage" in documents and "test-b" not in documents


def test_requests_during_a_rebuild_are_queued_and_an_ingest_elsewhere_is_waited_for(admin):
    """While another process holds the ingest lock (hazard ingest), the rebuild waits; a second
    request meanwhile is queued (202, queued) and answered by one more rebuild afterwards."""
    client, data_dir = admin
    with gen.ingest_lock(data_dir):
        first = upload(client, "x.md", UPLOADED.encode())
        assert first.status_code == 202 and first.json()["ingest"]["state"] == "running"
        second = client.post("/v1/admin/reindex")
        assert second.status_code == 202 and second.json()["queued"] is True
        time.sleep(1.5)
        status = client.get("/v1/admin/ingest").json()
        assert status["state"] == "running" and status["queued"] is True
        assert status["generation"] == status["previous_generation"]  # nothing switched yet
    status = wait_finished(client)
    assert status["state"] == "finished" and status["trigger"] == "reindex" and status["queued"] is False
    assert status["changed"] is False  # the queued run found the upload already indexed
    _switched(client, status["generation"])
    assert client.get("/v1/search", params={"q": "氢氟酸储罐"}).json()["results"][0]["clause_id"] == "test-hf-storage:1"


def test_a_rebuild_whose_process_died_reads_as_failed(admin):
    import socket
    import subprocess

    from api.live_index import STATUS_FILE

    client, data_dir = admin
    dead = subprocess.Popen(["true"])
    dead.wait()
    gen.write_json(data_dir / STATUS_FILE, {"state": "running", "trigger": "upload", "pid": dead.pid,
                                            "host": socket.gethostname(), "previous_generation": "g0"})
    status = client.get("/v1/admin/ingest").json()
    assert status["state"] == "failed" and "中断" in status["error"]
    assert status["generation"] == gen.current_name(data_dir)


def test_an_empty_uploads_folder_leaves_an_unchanged_corpus_a_no_op(tmp_path):
    corpus, data = write_corpus(tmp_path / "corpus"), tmp_path / "data"
    first = ingest_bm25(corpus, data)
    (data / "uploads" / ".staging").mkdir(parents=True)  # an interrupted upload's leftovers
    again = ingest_bm25(corpus, data)
    assert first.changed and not again.changed and again.generation == first.generation
