"""Settlement import: encodings, formats, every refusal (message + nothing written), idempotence.

Each test runs with the normal chunk size and with a tiny one, so that files
are read in many pieces and the whole-chunk matcher of the fast path is used
(on PostgreSQL) exactly as with a big file.
"""

from __future__ import annotations

import logging

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from clearing import importers
from clearing.importers import ChunkMatcher, CsvSource, ImportOptions, RegionBook, import_file
from clearing.models import ClearingPeriod, ImportBatch, Settlement
from clearing.tests.factories import Row, csv_text, import_rows, stored_ids, write_csv, write_xlsx

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["normal", "tiny-chunks"], autouse=True)
def chunk_size(request, monkeypatch):
    if request.param == "tiny-chunks":
        monkeypatch.setattr(importers.sources, "CHUNK", 256)
    return request.param


def test_tiny_chunks_really_read_the_file_in_pieces(tmp_path, chunk_size):
    """The fixture's patch reaches the reader (else the tiny-chunk runs would repeat the normal ones)."""
    source = CsvSource(write_csv(tmp_path / "s.csv", good_rows(20)), "s.csv")
    source.open()
    pieces = len(list(source.byte_chunks()))
    assert pieces > 1 if chunk_size == "tiny-chunks" else pieces == 1


def good_rows(count: int = 3, **kwargs) -> list[Row]:
    pairs = [("320100", "320200"), ("320200", "110000"), ("330100", "320500"), ("321300", "320100"), ("320400", "440300")]
    return [Row(f"JS2026020000{i:03d}", *pairs[i % len(pairs)], fund_amount=f"{100 + i}.50", **kwargs) for i in range(count)]


def assert_nothing_written():
    assert Settlement.objects.count() == 0
    assert not ClearingPeriod.objects.exists()


def refused_messages(report) -> dict[int, str]:
    assert report.refused, report.text()
    assert not report.committed
    return {error.row: error.message for error in report.errors}


# --- Accepted files ---------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_each_encoding_is_imported(tmp_path, encoding):
    rows = good_rows(5)
    rows[0].institution = "𠮷祥诊所·社区卫生服务中心"  # outside the BMP: four bytes in GB18030
    path = write_csv(tmp_path / "s.csv", rows, encoding=encoding)

    report = import_file(path)

    assert report.committed, report.text()
    assert report.inserted == 5 and report.rows == 5
    assert Settlement.objects.get(settlement_id="JS2026020000000").institution == "𠮷祥诊所·社区卫生服务中心"
    assert report.encoding.startswith({"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "gb18030": "GB18030"}[encoding])


def test_xlsx_with_numbers_and_dates_is_imported(tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["institution", "fund_amount", "total_amount", "settled_on", "care_type", "insurance_type", "treatment_region", "insured_region", "period", "settlement_id"])
    import datetime

    sheet.append(["南京鼓楼医院", 8000.5, 12345.67, datetime.date(2026, 2, 14), "inpatient", 310, 320200, 320100, "2026-02", "X1"])
    sheet.append(["北京协和医院", 99, 100, "2026-02-03", "chronic", "390", "110000", "320300", datetime.date(2026, 2, 1), "X2"])
    workbook.save(tmp_path / "s.xlsx")

    report = import_file(tmp_path / "s.xlsx")

    assert report.committed, report.text()
    first = Settlement.objects.get(settlement_id="X1")
    assert (first.insured_region, first.treatment_region, str(first.fund_amount), str(first.total_amount)) == ("320100", "320200", "8000.50", "12345.67")
    assert Settlement.objects.get(settlement_id="X2").period == "2026-02"


def test_columns_in_any_order_and_chinese_headers(tmp_path):
    columns = ["基金支付合计", "结算流水号", "清算所属期", "参保地", "就医地", "险种类型", "医疗类别", "结算日期", "总费用", "定点医药机构"]
    keys = ["fund_amount", "settlement_id", "period", "insured_region", "treatment_region", "insurance_type", "care_type", "settled_on", "total_amount", "institution"]
    values = Row("C1").values()
    text = ",".join(columns) + "\r\n" + ",".join(values[key] for key in keys) + "\r\n"
    (tmp_path / "s.csv").write_text(text, encoding="utf-8")

    report = import_file(tmp_path / "s.csv")

    assert report.committed, report.text()
    assert stored_ids() == ["C1"]


def test_importing_the_same_file_twice_adds_nothing(tmp_path):
    path = write_csv(tmp_path / "s.csv", good_rows(4))
    first = import_file(path)
    second = import_file(path)

    assert (first.inserted, first.skipped) == (4, 0)
    assert second.committed and (second.inserted, second.skipped) == (0, 4)
    assert Settlement.objects.count() == 4


def test_an_overlapping_file_adds_only_the_new_rows(tmp_path):
    rows = good_rows(5)
    import_file(write_csv(tmp_path / "a.csv", rows[:3]))
    report = import_file(write_csv(tmp_path / "b.csv", rows[1:]))

    assert (report.inserted, report.skipped) == (2, 2)
    assert Settlement.objects.count() == 5


def test_spaces_around_values_are_removed(tmp_path):
    row = {**Row("S1").values(), "insured_region": " 320100", "fund_amount": "100.00 ", "institution": " 南京鼓楼医院 "}
    report = import_rows(tmp_path, [row])

    assert report.committed, report.text()
    stored = Settlement.objects.get()
    assert (stored.insured_region, stored.institution) == ("320100", "南京鼓楼医院")


def test_other_provinces_city_codes_are_accepted(tmp_path):
    rows = [Row("P1", "330100", "320100"), Row("P2", "320200", "440300"), Row("P3", "320200", "110000")]
    report = import_rows(tmp_path, rows)
    assert report.committed, report.text()
    assert Settlement.objects.get(settlement_id="P1").insured_region == "330100"  # kept as given, folded when clearing


def test_a_late_declaration_within_two_months_is_accepted(tmp_path):
    report = import_rows(tmp_path, [Row("L1", period="2026-03", settled_on="2026-01-31"), Row("L2", period="2026-03")])
    assert report.committed, report.text()
    assert Settlement.objects.get(settlement_id="L1").is_late
    assert not Settlement.objects.get(settlement_id="L2").is_late


def test_blank_lines_and_quoted_fields_keep_row_numbers_as_the_user_sees_them(tmp_path):
    good = Row("Q1").values()
    text = csv_text([good]) + "\r\n" + '"Q2",2026-02,320100,320200,310,inpatient,2026-02-14,200.00,100.00,"鼓楼医院\r\n（本部）"\r\n'
    text += ",".join(Row("Q3", fund_amount="300.00", total_amount="200.00").values().values()) + "\r\n"
    (tmp_path / "s.csv").write_text(text, encoding="utf-8")

    report = import_file(tmp_path / "s.csv")

    # header = 1, Q1 = 2, blank = 3, Q2 = 4 (two physical lines), Q3 = 5
    assert refused_messages(report) == {5: "基金支付合计（300.00）大于总费用（200.00）"}
    assert_nothing_written()


def test_a_file_periods_are_registered_with_their_calendar(tmp_path):
    import_rows(tmp_path, [Row("R1", period="2026-02")])
    period = ClearingPeriod.objects.get(period="2026-02")
    assert (str(period.data_due), str(period.clearing_due), period.status) == ("2026-03-20", "2026-03-28", "open")


def test_dry_run_writes_nothing_but_counts(tmp_path):
    report = import_rows(tmp_path, good_rows(3), dry_run=True)
    assert report.ok and not report.committed and report.inserted == 3
    assert_nothing_written()


def test_skip_invalid_imports_only_the_valid_rows(tmp_path):
    rows = [*good_rows(2), Row("BAD", "990000", "320100")]
    report = import_rows(tmp_path, rows, skip_invalid=True)
    assert report.committed and report.inserted == 2 and report.error_count == 1
    assert "BAD" not in stored_ids()


# --- Refusals: message, row number, nothing written ---------------------------------


@pytest.mark.parametrize(
    ("insured", "treatment", "message"),
    [
        ("990000", "320100", "参保地代码“990000”为未知地区：前两位“99”不是省级行政区划代码"),
        ("320000", "110000", "参保地代码“320000”为未知地区：江苏省内结算应填写设区市代码，不能填写省级代码"),
        ("320199", "110000", "参保地代码“320199”为未知地区：不是江苏的设区市代码"),
        ("32010", "110000", "参保地代码“32010”格式不正确，应为6位数字的地区代码（GB/T 2260）"),
        ("320100", "ABCDEF", "就医地代码“ABCDEF”格式不正确，应为6位数字的地区代码（GB/T 2260）"),
        ("320100", "", "就医地代码为空"),
        ("320100", "320100", "参保地与就医地是同一设区市（320100 南京市），不属于异地就医结算"),
        ("330100", "110000", "参保地（330100）与就医地（110000）都不在江苏，不属于本省清算范围"),
        ("330100", "330000", "参保地（330100）与就医地（330000）都不在江苏，不属于本省清算范围"),
    ],
)
def test_region_refusals(tmp_path, insured, treatment, message):
    report = import_rows(tmp_path, [*good_rows(2), Row("R9", insured, treatment)])
    assert refused_messages(report) == {4: message}
    assert_nothing_written()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"fund_amount": "900.00", "total_amount": "800.00"}, "基金支付合计（900.00）大于总费用（800.00）"),
        ({"fund_amount": "-5.00", "total_amount": "100.00"}, "基金支付合计不能为负数（-5.00）"),
        ({"total_amount": "-100"}, "总费用不能为负数（-100）"),
        ({"fund_amount": "12.345", "total_amount": "100.00"}, "基金支付合计“12.345”格式不正确，应为不超过两位小数的金额（元），如 12345.67"),
        ({"total_amount": "一百"}, "总费用“一百”格式不正确，应为不超过两位小数的金额（元），如 12345.67"),
        ({"total_amount": "1,234.00"}, "总费用“1,234.00”格式不正确，应为不超过两位小数的金额（元），如 12345.67"),
        ({"fund_amount": ""}, "基金支付合计为空"),
        ({"total_amount": "1000000000.00"}, "总费用 1000000000.00 元超过单笔结算金额上限 999,999,999.99 元，请核对金额"),
        ({"settled_on": "2026-02-30"}, "结算日期“2026-02-30”不是有效日期"),
        ({"settled_on": "2026/02/08"}, "结算日期“2026/02/08”格式不正确，应为 YYYY-MM-DD（如 2026-03-14）"),
        ({"settled_on": "2026-03-01"}, "结算日期 2026-03-01 晚于清算所属期 2026-02，不能纳入该期清算"),
        ({"settled_on": "2025-11-30"}, "结算日期 2025-11-30 早于清算所属期 2026-02 超过2个月（第四十九条：清算延期最长不超过2个月）"),
        ({"period": "2026-13"}, "清算所属期“2026-13”不是有效月份"),
        ({"period": "202602"}, "清算所属期“202602”格式不正确，应为 YYYY-MM（如 2026-03）"),
        ({"insurance_type": "320"}, "险种类型“320”不正确，应为 310（职工）、390（城乡居民）"),
        ({"care_type": "dental"}, "医疗类别“dental”不正确，应为 inpatient（住院）、outpatient（门诊）、chronic（门诊慢特病）"),
        ({"institution": ""}, "定点医药机构为空"),
        ({"settlement_id": "A B"}, "结算流水号“A B”含有空格或不可见字符"),
        ({"settlement_id": "X" * 41}, f"结算流水号“{'X' * 40}…”超过40个字符"),
    ],
)
def test_value_refusals(tmp_path, changes, message):
    bad = {**Row("V9", settled_on="2026-02-14").values(), **changes}
    report = import_rows(tmp_path, [*good_rows(2), bad])
    assert refused_messages(report) == {4: message}
    assert_nothing_written()


def test_every_problem_of_a_row_is_named(tmp_path):
    bad = {**Row("M1").values(), "insured_region": "990000", "fund_amount": "abc", "care_type": "x"}
    message = refused_messages(import_rows(tmp_path, [bad]))[2]
    assert "参保地代码“990000”为未知地区" in message and "基金支付合计“abc”格式不正确" in message and "医疗类别“x”不正确" in message


def test_every_bad_row_is_reported_with_its_number(tmp_path):
    rows = [*good_rows(3), Row("B1", "990000", "320100"), *good_rows(1)[:0], Row("B2", fund_amount="5", total_amount="1")]
    rows.append(Row("JS2026020000001", "320100", "320300"))  # the id of row 3 again
    messages = refused_messages(import_rows(tmp_path, rows))
    assert set(messages) == {5, 6, 7}
    assert messages[7] == "结算流水号“JS2026020000001”与第 3 行重复"
    assert_nothing_written()


def test_a_duplicate_id_within_the_file_is_refused(tmp_path):
    report = import_rows(tmp_path, [Row("D1"), Row("D2"), Row("D1", "320300", "320400")])
    assert refused_messages(report) == {4: "结算流水号“D1”与第 2 行重复"}
    assert_nothing_written()


def test_an_id_already_imported_with_different_content_is_refused(tmp_path):
    import_rows(tmp_path, [Row("E1", fund_amount="100.00")], name="first.csv")
    report = import_rows(tmp_path, [Row("E2"), Row("E1", fund_amount="150.00")], name="second.csv")

    assert refused_messages(report) == {3: "结算流水号“E1”已存在且内容不同（总费用、基金支付合计与已导入的记录不一致）"}
    assert stored_ids() == ["E1"]
    assert str(Settlement.objects.get().fund_amount) == "100.00"


def test_a_column_count_mismatch_is_refused(tmp_path):
    text = csv_text([Row("K1")]) + "K2,2026-02,320100,320200,310\r\n"
    (tmp_path / "s.csv").write_text(text, encoding="utf-8")
    assert refused_messages(import_file(tmp_path / "s.csv")) == {3: "本行有 5 列，与表头的 10 列不一致"}
    assert_nothing_written()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "文件是空的"),
        (b"settlement_id,period\r\nA,2026-02\r\n", "缺少必需的列：insured_region（参保地）、treatment_region（就医地）"),
        ("名字,年龄\r\n张三,3\r\n".encode(), "没有找到表头"),
        (csv_text([]).encode(), "文件只有表头，没有数据行。"),
        (b"settlement_id,period,period\r\n", "表头中“清算所属期（period）”列出现了不止一次"),
        (b"\xff\xfe" + "settlement_id".encode("utf-16-le"), "文件是 UTF-16 编码"),
        (csv_text([Row("U1")]).encode("utf-8") + b"U2,2026-02,320100,320200,310,inpatient,2026-02-14,2.00,1.00,\xff\xff\r\n", "无法识别文件编码"),
        (csv_text([Row("U1")]).encode("utf-8") + b'U2,2026-02,320100,320200,310,inpatient,2026-02-14,2.00,1.00,"abc\r\n', "引号没有闭合"),
    ],
)
def test_file_refusals(tmp_path, content, message):
    (tmp_path / "s.csv").write_bytes(content)
    report = import_file(tmp_path / "s.csv")
    assert report.refused and message in report.file_error, report.text()
    assert_nothing_written()


def test_a_gb18030_file_with_an_ascii_start_is_still_read(tmp_path, monkeypatch):
    """The encoding is guessed from the first 64 KB; GB18030 bytes after that restart the read."""
    monkeypatch.setattr(importers.sources, "CHUNK", 256)
    rows = [Row(f"A{i:05d}", institution="Hospital") for i in range(2000)] + [Row("Z1", institution="南京鼓楼医院")]
    path = write_csv(tmp_path / "s.csv", rows, encoding="gb18030")
    report = import_file(path)
    assert report.committed and report.encoding == "GB18030", report.text()
    assert Settlement.objects.get(settlement_id="Z1").institution == "南京鼓楼医院"


def test_rows_of_a_period_whose_notices_are_issued_are_refused_unless_already_there(tmp_path):
    import_rows(tmp_path, [Row("N1")], name="first.csv")
    ClearingPeriod.objects.filter(period="2026-02").update(status=ClearingPeriod.Status.NOTICES_ISSUED)

    again = import_rows(tmp_path, [Row("N1")], name="first-again.csv")
    new = import_rows(tmp_path, [Row("N1"), Row("N2")], name="second.csv")

    assert again.committed and again.skipped == 1
    assert refused_messages(new) == {
        3: "清算所属期 2026-02 的清算通知书已下达，不能再导入新的结算明细（结算流水号“N2”），请以后续月份为清算所属期申报"
    }
    assert stored_ids() == ["N1"]


def test_a_city_uploader_may_only_bring_rows_of_its_city(tmp_path):
    report = import_rows(tmp_path, [Row("C1", "320100", "320200"), Row("C2", "320300", "320400")], restrict_to="320100")
    assert refused_messages(report) == {3: "参保地（320300）与就医地（320400）都不是南京市，本单位只能导入涉及南京市的结算明细"}


def test_a_computed_period_that_gets_new_rows_is_marked_stale(tmp_path):
    from clearing.services import clearing_compute

    import_rows(tmp_path, [Row("T1")], name="a.csv")
    period = clearing_compute(period=ClearingPeriod.objects.get(), by=None)
    assert not period.results_stale
    import_rows(tmp_path, [Row("T1")], name="a-again.csv")
    assert not ClearingPeriod.objects.get().results_stale
    import_rows(tmp_path, [Row("T2")], name="b.csv")
    assert ClearingPeriod.objects.get().results_stale


# --- The fast path on PostgreSQL ------------------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the COPY fast path is PostgreSQL's")
def test_postgresql_takes_the_copy_path_and_falls_back_when_it_must(tmp_path):
    rows = good_rows(40)
    first = import_file(write_csv(tmp_path / "a.csv", rows))
    again = import_file(write_csv(tmp_path / "a2.csv", rows))
    spaced = import_rows(tmp_path, [{**Row("W1").values(), "institution": "鼓楼 "}], name="w.csv")

    assert first.path == "copy" and first.inserted == 40
    assert again.path == "staging" and again.skipped == 40
    assert spaced.path == "copy" and Settlement.objects.get(settlement_id="W1").institution == "鼓楼"


def test_the_chunk_matcher_accepts_exactly_the_good_lines():
    book = RegionBook.load()
    matcher = ChunkMatcher(book, {"2026-02", "2026-03"})
    order = importers.COLUMNS

    def line(**changes) -> str:
        values = {**Row("G1").values(), **changes}
        return ",".join(values[column] for column in order) + "\r\n"

    good = line() + line(insured_region="330100", treatment_region="320500") + line(settled_on="2025-12-01", institution="𠮷祥诊所")
    assert matcher.match(good.encode("gb18030")) == {"2026-02": 3, "2026-03": 0}
    assert matcher.match((good + line(period="2026-03", settled_on="2026-03-31")).encode("utf-8")) == {"2026-02": 3, "2026-03": 1}
    for bad in [
        {"insured_region": "320100", "treatment_region": "320100"},
        {"insured_region": "330100", "treatment_region": "110000"},
        {"insured_region": "990000"},
        {"insured_region": "320000"},
        {"settled_on": "2025-11-30"},
        {"settled_on": "2026-02-30"},
        {"settled_on": "2026-03-01"},
        {"period": "2026-04", "settled_on": "2026-04-01"},  # a period the matcher was not built for
        {"fund_amount": "1.234"},
        {"fund_amount": "-1.00"},
        {"insurance_type": "311"},
        {"care_type": "dental"},
        {"institution": " 鼓楼"},
        {"institution": ""},
        {"settlement_id": "X" * 41},
    ]:
        assert matcher.match((good + line(**bad)).encode("utf-8")) is None, bad


def test_the_chunk_matcher_takes_quoted_fields_and_sends_odd_quoting_row_by_row():
    matcher = ChunkMatcher(RegionBook.load(), {"2026-02"})
    values = Row("Q1").values()

    def line(quoted: set[str], **changes) -> bytes:
        row = {**values, **changes}
        return (",".join(f'"{row[c]}"' if c in quoted else row[c] for c in importers.COLUMNS) + "\r\n").encode("gb18030")

    every = set(importers.COLUMNS)
    assert matcher.match(line(every)) == {"2026-02": 1}
    assert matcher.match(line({"institution", "settled_on"}) + line(set())) == {"2026-02": 2}
    assert matcher.match(line(every, insured_region="320200")) is None  # same city on both ends, quoted
    assert matcher.match(line(every, institution="南京,鼓楼医院")) is None  # a comma inside: row by row
    assert matcher.match(line(every, institution=" 鼓楼")) is None
    assert matcher.match(line(set(), institution='"鼓楼')) is None


def test_a_file_with_every_field_quoted_stores_the_plain_values(tmp_path):
    rows = good_rows(4)
    rows[1].institution = "南京市,鼓楼医院"  # a comma inside quotes
    text = "".join(",".join(f'"{cell}"' for cell in line.split(",")) + "\r\n" for line in csv_text(rows).splitlines()[:1])
    for row in rows:
        values = row.values()
        text += ",".join('"' + values[c].replace('"', '""') + '"' for c in importers.COLUMNS) + "\r\n"
    path = tmp_path / "quoted.csv"
    path.write_bytes(text.encode("gb18030"))

    report = import_file(path)

    assert report.committed and report.inserted == 4, report.text()
    stored = Settlement.objects.get(settlement_id=rows[1].settlement_id)
    assert (stored.institution, stored.period, stored.insured_region) == ("南京市,鼓楼医院", "2026-02", rows[1].insured_region)
    assert import_file(path).inserted == 0


# --- The command -------------------------------------------------------------------------


def test_command_imports_and_reports(tmp_path, capsys):
    path = write_csv(tmp_path / "ok.csv", good_rows(2))
    call_command("import_settlements", str(path))
    assert "已导入 2 行（新增 2 行" in capsys.readouterr().out
    assert ImportBatch.objects.get().status == ImportBatch.Status.IMPORTED


def test_command_refuses_a_bad_file_with_a_row_numbered_report_and_nonzero_exit(tmp_path, capsys):
    good = write_csv(tmp_path / "good.csv", good_rows(2))
    bad = write_csv(tmp_path / "bad.csv", [Row("B1"), Row("B2", "320100", "320100")])

    with pytest.raises(CommandError, match="1 个文件未导入"):
        call_command("import_settlements", str(good), str(bad))

    out = capsys.readouterr().out
    assert "bad.csv：未导入（本文件的数据均未写入）" in out
    assert "  第 3 行：参保地与就医地是同一设区市（320100 南京市），不属于异地就医结算" in out
    assert sorted(stored_ids()) == ["JS2026020000000", "JS2026020000001"]


def test_a_refusal_found_by_the_database_is_reported_in_chinese_only(tmp_path, caplog):
    """fund > total and a repeated id pass the chunk check and are refused by the
    table during COPY: the report is row-numbered Chinese, with no English log line."""
    rows = [Row("D1"), Row("D1"), Row("D2", fund_amount="150.00", total_amount="100.00")]
    report = import_rows(tmp_path, rows)
    assert refused_messages(report) == {3: "结算流水号“D1”与第 2 行重复", 4: "基金支付合计（150.00）大于总费用（100.00）"}
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING], caplog.text
    assert_nothing_written()


def test_command_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError):
        call_command("import_settlements", str(tmp_path / "nope.csv"))


def test_xlsx_refusal_uses_sheet_row_numbers(tmp_path):
    path = write_xlsx(tmp_path / "s.xlsx", [Row("X1"), Row("X2", fund_amount="10.00", total_amount="5.00")])
    assert refused_messages(import_file(path)) == {3: "基金支付合计（10.00）大于总费用（5.00）"}
    assert_nothing_written()


def test_import_options_default_is_a_real_import(tmp_path):
    assert ImportOptions().dry_run is False
    assert import_rows(tmp_path, good_rows(1)).committed


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the COPY fast path is PostgreSQL's")
def test_any_column_order_keeps_the_fast_path_and_its_checks(tmp_path, monkeypatch):
    monkeypatch.setattr(importers.sources, "CHUNK", 300)
    order = ("fund_amount", "settlement_id", "institution", "period", "treatment_region", "insured_region",
             "care_type", "settled_on", "insurance_type", "total_amount")
    rows = good_rows(40)
    first = import_file(write_csv(tmp_path / "a.csv", rows, columns=order))
    assert first.path == "copy" and first.inserted == 40, first.text()

    bad = [Row(f"K{i:03d}", fund_amount="10.00") for i in range(40)] + [Row("K999", "320100", "320100")]
    report = import_file(write_csv(tmp_path / "b.csv", bad, columns=order))
    assert refused_messages(report) == {42: "参保地与就医地是同一设区市（320100 南京市），不属于异地就医结算"}
    assert Settlement.objects.count() == 40
