"""core.safe_files: crafted spreadsheets are refused before any reader opens them,
with a Chinese reason, quickly, and ordinary files still read."""

from __future__ import annotations

import dataclasses
import io
import time
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core import safe_files
from core.errors import DomainError
from core.models import CalendarDay, Institution, Role
from core.tests import bombs


@pytest.fixture
def calamine_must_not_run(monkeypatch):
    """A crafted file must be refused before python-calamine sees it: there a
    bomb is not an exception but a dead process."""
    import python_calamine

    class Forbidden:
        @classmethod
        def from_path(cls, *args, **kwargs):
            raise AssertionError("calamine opened a file the checks should have refused")

        from_filelike = from_object = from_path

    monkeypatch.setattr(python_calamine, "CalamineWorkbook", Forbidden)


@pytest.mark.parametrize("name", list(bombs.BOMBS))
@pytest.mark.parametrize("limits", [safe_files.SMALL_TABLE, safe_files.SETTLEMENT_TABLE], ids=["small", "settlement"])
def test_each_bomb_is_refused_quickly_before_the_reader_opens_it(name, limits, calamine_must_not_run):
    data = bombs.BOMBS[name]()
    assert len(data) < 100_000
    started = time.monotonic()
    with pytest.raises(DomainError) as refused:
        safe_files.read_xlsx_rows(data, limits)
    assert time.monotonic() - started < 5
    assert refused.value.message.startswith("XLSX ")
    assert "已拒绝读取" in refused.value.message or "超过本导入允许" in refused.value.message


def test_a_cell_at_the_far_corner_is_refused_naming_the_extent():
    with pytest.raises(DomainError, match="XLSX 工作表用到了第 16384 列，超过本导入允许的 64 列"):
        safe_files.inspect_xlsx(bombs.far_cell(), safe_files.SETTLEMENT_TABLE)


def test_a_deflate_bomb_is_refused_for_its_compression_ratio():
    with pytest.raises(DomainError, match="压缩比异常"):
        safe_files.inspect_xlsx(bombs.deflate_bomb(), safe_files.SETTLEMENT_TABLE)


def test_declared_sizes_are_not_believed():
    data = bombs.lying_deflate_bomb()
    declared = {info.filename: info.file_size for info in zipfile.ZipFile(io.BytesIO(data)).infolist()}
    assert declared["xl/worksheets/sheet1.xml"] == 1024  # the headers lie
    with pytest.raises(DomainError, match="压缩比异常"):
        safe_files.inspect_xlsx(data, safe_files.SETTLEMENT_TABLE)


def test_a_shared_string_repeated_in_every_cell_is_priced_as_expanded():
    data = bombs.shared_string_bomb(text_bytes=20_000, cells=3_000)  # 60 MB of text once expanded
    assert len(data) < 50_000
    with pytest.raises(DomainError, match="文字展开后超过 50 MB"):
        safe_files.inspect_xlsx(data, safe_files.SMALL_TABLE)
    roomy = dataclasses.replace(safe_files.SMALL_TABLE, max_text_bytes=100 * safe_files.MiB)
    assert safe_files.inspect_xlsx(data, roomy).shared_text_bytes >= 60_000_000


def test_too_many_rows_or_columns_are_refused_with_the_limit():
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>1</v></c></row>' for r in range(2, 20_003))
    with pytest.raises(DomainError, match="第 20002 行，超过本导入允许的 20000 行数据"):
        safe_files.inspect_xlsx(bombs.workbook(bombs.HEADER_ROW + rows), safe_files.SMALL_TABLE)


@pytest.mark.parametrize(("content", "message"), [
    (b"PK\x03\x04not really a zip", "文件不是有效的 XLSX"),
    (bombs.workbook("").replace(b"xl/workbook.xml", b"xl/workbook.xxx"), "文件不是有效的 XLSX"),
])
def test_archives_that_are_not_workbooks_are_refused(content, message):
    with pytest.raises(DomainError, match=message):
        safe_files.read_xlsx_rows(content, safe_files.SMALL_TABLE)


def test_an_ordinary_workbook_is_read_with_its_row_numbers():
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["日期", "类型", "名称"])
    sheet.append([])
    sheet.append(["2027-01-01", "休息", "元旦"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    extent = safe_files.inspect_xlsx(buffer.getvalue(), safe_files.SMALL_TABLE)
    assert (extent.rows, extent.columns) == (3, 3)
    rows = safe_files.read_xlsx_rows(buffer.getvalue(), safe_files.SMALL_TABLE)
    assert rows[0] == (1, ["日期", "类型", "名称"]) and rows[2] == (3, ["2027-01-01", "休息", "元旦"])


def test_a_small_upload_over_its_size_is_refused_before_reading():
    data = b"a,b\n" + b"1,2\n" * (5 * safe_files.MiB // 4)
    with pytest.raises(DomainError, match="超过本导入允许的 5 MB"):
        safe_files.read_table_rows(data, "x.csv", safe_files.SMALL_TABLE)


def test_csv_rows_and_columns_are_capped():
    with pytest.raises(DomainError, match="超过本导入允许的 20000 行数据"):
        safe_files.read_csv_rows(b"a\n" + b"1\n" * 20_001, safe_files.SMALL_TABLE)
    with pytest.raises(DomainError, match="第 2 行有 101 列"):
        safe_files.read_csv_rows(b"a\n" + b"," * 100 + b"\n", safe_files.SMALL_TABLE)


# --- The pages that read small tables -------------------------------------------------------


@pytest.fixture
def administrator_client(client, make_staff):
    client.force_login(make_staff("admin_js", Role.ADMINISTRATOR, "320000", is_staff=True))
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["far_cell", "deflate_bomb"])
def test_calendar_import_refuses_a_bomb_in_chinese(administrator_client, name, calamine_must_not_run):
    upload = SimpleUploadedFile("2027.xlsx", bombs.BOMBS[name]())
    response = administrator_client.post(reverse("calendar"), {"year": 2027, "file": upload})
    assert response.status_code == 200
    assert "XLSX 工作表用到了第" in response.text or "压缩比异常" in response.text
    assert not CalendarDay.objects.filter(date__year=2027).exists()


@pytest.mark.django_db
def test_calendar_upload_over_5_mb_is_refused(administrator_client):
    upload = SimpleUploadedFile("2027.csv", b"x" * (5 * safe_files.MiB + 1))
    response = administrator_client.post(reverse("calendar"), {"year": 2027, "file": upload})
    assert "超过本导入允许的 5 MB" in response.text


@pytest.mark.django_db
def test_admin_institution_import_refuses_a_bomb(administrator_client, calamine_must_not_run):
    from core.admin import InstitutionAdmin
    from core.resources import SafeXLSX

    xlsx_choice = InstitutionAdmin.import_formats.index(SafeXLSX)
    upload = SimpleUploadedFile("institutions.xlsx", bombs.far_cell())
    before = Institution.objects.count()
    response = administrator_client.post(
        reverse("admin:core_institution_import"), {"import_file": upload, "format": str(xlsx_choice), "resource": "0"}
    )
    assert response.status_code == 200
    assert "XLSX 工作表用到了第 1048576 行" in response.text
    assert Institution.objects.count() == before


# --- Ordinary CSV files: encodings, line endings, odd bytes ------------------------------------

BIG5_HOSPITALS = "日期,類型,名稱\n2027-01-01,休息,臺北榮民總醫院院慶\n2027-01-02,休息,長庚紀念醫院\n"


def test_big5_is_refused_naming_what_the_text_would_have_been():
    with pytest.raises(DomainError) as refused:
        safe_files.decode_text(BIG5_HOSPITALS.encode("big5"))
    assert refused.value.message.startswith("文件看起来是 Big5（繁体中文）编码")
    assert "按 Big5 应为“臺北榮民總醫院院慶”" in refused.value.message


@pytest.mark.parametrize("text", [
    BIG5_HOSPITALS,  # traditional characters are GB18030 too
    "日期,类型,名称\n2027-10-01,休息,国庆节\n2027-10-02,休息,南京鼓楼医院院庆\n",
    "日期,类型,名称\n2027-01-01,休息,元旦\n",
    "住院,门诊\n张三,李四\n",
])
def test_gb18030_text_is_not_mistaken_for_big5(text):
    assert safe_files.decode_text(text.encode("gb18030")) == (text, "gb18030")


@pytest.mark.parametrize(("content", "rows"), [
    ("日期,类型\r2027-01-01,休息\r".encode(), [(1, ["日期", "类型"]), (2, ["2027-01-01", "休息"])]),
    ("\ufeff日期,类型\r\n2027-01-01,休息\r\n".encode(), [(1, ["日期", "类型"]), (2, ["2027-01-01", "休息"])]),
    (b"", []),
])
def test_csv_line_endings_and_bom(content, rows):
    assert safe_files.read_csv_rows(content, safe_files.SMALL_TABLE) == rows


@pytest.mark.parametrize(("content", "message"), [
    ("日期\n2027-01-01\x00\n".encode(), "第 2 行含有不可见的空字符（NUL）"),
    ("日期\n\ufeff".encode("utf-32"), "文件是 UTF-32 编码"),
    ("日期\n".encode("utf-16"), "文件是 UTF-16 编码"),
    (b"a\n\"" + b"x" * (safe_files.MiB + 10), "第 2 行有一格内容超过 1 MB，或引号没有成对"),
    (b"a\n\xff\xfe\xfd\n", "第 2 行含有既不是 UTF-8 也不是 GB18030 的字节（0xFF）"),
])
def test_odd_csv_files_are_refused_in_chinese(content, message):
    with pytest.raises(DomainError, match=message.replace("(", r"\(").replace(")", r"\)")):
        safe_files.read_csv_rows(content, safe_files.SMALL_TABLE)


def test_full_width_forms_become_half_width_and_nothing_else():
    assert safe_files.to_halfwidth("１２３．４５　２０２６－０３ＡＢ") == "123.45 2026-03AB"
    assert safe_files.to_halfwidth("²٣南京") == "²٣南京"


@pytest.mark.django_db
def test_calendar_import_reads_full_width_dates_and_cr_only_lines(administrator_client):
    content = "日期,类型,名称\r２０２７－０１－０１,休息,元旦\r\r2027-02-20,上班,春节调休上班\r".encode("gb18030")
    response = administrator_client.post(reverse("calendar"), {"year": 2027, "file": SimpleUploadedFile("2027.csv", content)})
    assert response.status_code == 302
    assert set(CalendarDay.objects.filter(date__year=2027).values_list("name", flat=True)) == {"元旦", "春节调休上班"}


@pytest.mark.django_db
def test_calendar_errors_keep_the_row_numbers_after_blank_lines(administrator_client):
    content = "日期,类型,名称\n2027-01-01,休息,元旦\n\n2027-02-30,休息,x\n".encode()
    page = administrator_client.post(reverse("calendar"), {"year": 2027, "file": SimpleUploadedFile("b.csv", content)}).text
    assert "第4行：日期“2027-02-30”无效" in page


@pytest.mark.django_db
def test_calendar_import_refuses_big5(administrator_client):
    upload = SimpleUploadedFile("2027.csv", BIG5_HOSPITALS.encode("big5"))
    page = administrator_client.post(reverse("calendar"), {"year": 2027, "file": upload}).text
    assert "文件看起来是 Big5（繁体中文）编码" in page
    assert not CalendarDay.objects.filter(date__year=2027).exists()
