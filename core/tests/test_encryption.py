"""Encryption at rest of ID numbers and bank accounts (issue 14, 等保 三级): what the
database holds is sealed, search goes through the blind index and the last-4 column,
keys rotate, and no ID number is left in plain text anywhere in the database."""

import base64
import io
import re
from datetime import date

import pytest
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from core import crypto
from core.audit import log_action
from core.idcard import build_id_number, find_id_numbers, id_number_hash, redact_id_numbers
from core.jobs import start_job
from core.models import AuditLog, InsuredPerson
from core.tests.factories import InsuredPersonFactory

pytestmark = pytest.mark.django_db

KEY_A = base64.b64encode(b"a" * 32).decode()
KEY_B = base64.b64encode(b"b" * 32).decode()
BLIND_1 = base64.b64encode(b"1" * 32).decode()
BLIND_2 = base64.b64encode(b"2" * 32).decode()
HEX_DIGEST = re.compile(r"[0-9a-f]{32,}")  # hashes, keys: hex noise can hold 18 digits in a row


def raw(table: str, column: str, pk: int):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {connection.ops.quote_name(column)} FROM {connection.ops.quote_name(table)} "
                       f"WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def raw_history(table: str, column: str, pk: int) -> list:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {connection.ops.quote_name(column)} FROM {connection.ops.quote_name(table)} "
                       f"WHERE id = %s", [pk])
        return [row[0] for row in cursor.fetchall()]


def test_a_person_is_sealed_in_the_table_and_its_history_and_reads_back_plain():
    number = build_id_number("320106", date(1980, 5, 6), 123)
    person = InsuredPersonFactory(id_number=number)
    stored = raw("core_insuredperson", "id_number", person.pk)
    assert stored.startswith("enc1$") and number not in stored
    assert person.id_number_hash == id_number_hash(number) and len(person.id_number_hash) == 64
    assert person.id_number_last4 == number[-4:]
    history = raw_history("core_historicalinsuredperson", "id_number", person.pk)
    assert history and all(value.startswith("enc1$") for value in history)
    assert InsuredPerson.objects.get(pk=person.pk).id_number == number
    assert InsuredPerson.history.filter(id=person.pk).first().id_number == number
    # Two seals of the same number differ: the ciphertext says nothing about equality.
    assert crypto.encrypt(number, "id_number") != crypto.encrypt(number, "id_number")


def test_exact_and_last4_search_and_refused_lookups():
    number = build_id_number("320106", date(1980, 5, 6), 123)
    person = InsuredPersonFactory(id_number=number)
    InsuredPersonFactory()
    assert list(InsuredPerson.objects.with_id_number(number.lower())) == [person]
    assert list(InsuredPerson.objects.with_id_tail(number[-4:])) == [person]
    assert list(InsuredPerson.objects.with_id_tail(number[-6:])) == [person]
    assert list(InsuredPerson.objects.with_id_tail(number[-4:], prefix="320106")) == [person]
    assert not InsuredPerson.objects.with_id_tail(number[-4:], prefix="110101").exists()
    with pytest.raises(FieldError):
        InsuredPerson.objects.filter(id_number=number).exists()
    with pytest.raises(FieldError):
        InsuredPerson.objects.filter(id_number__endswith=number[-4:]).exists()


def test_the_admin_finds_a_person_by_whole_number_last_four_or_name(rf):
    from django.contrib import admin

    from core.admin import InsuredPersonAdmin

    number = build_id_number("320106", date(1980, 5, 6), 123)
    person = InsuredPersonFactory(id_number=number, name="王小明")
    InsuredPersonFactory(name="李四")
    model_admin = InsuredPersonAdmin(InsuredPerson, admin.site)

    def found(term):
        return list(model_admin.get_search_results(rf.get("/"), InsuredPerson.objects.all(), term)[0])

    assert found(number.lower()) == [person]  # the blind index, whatever the case of x
    assert found(" " + number[-4:]) == [person]  # the last-4 column
    assert found("王小明") == [person]  # the name, as search_fields
    assert found("110101198001011234") == []


def test_the_migration_step_unseals_backwards_and_seals_forwards_again():
    from core.encryption_migration import reseal, unseal

    numbers = [build_id_number("320106", date(1980, 5, 6), sequence) for sequence in (121, 123, 125)]
    people = [InsuredPersonFactory(id_number=number) for number in numbers]
    unseal(InsuredPerson, batch=2)  # two batches
    assert [raw("core_insuredperson", "id_number", person.pk) for person in people] == numbers
    assert [InsuredPerson.objects.get(pk=person.pk).id_number for person in people] == numbers
    assert reseal(InsuredPerson, only_stale=True) >= 3
    assert all(raw("core_insuredperson", "id_number", person.pk).startswith("enc1$") for person in people)


def test_a_changed_or_moved_token_does_not_open():
    token = crypto.encrypt("320106198005061234", "id_number")
    body = token.rsplit("$", 1)[1]
    flipped = body[:20] + ("A" if body[20] != "A" else "B") + body[21:]
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token.rsplit("$", 1)[0] + "$" + flipped, "id_number")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token, "bank_account")  # the purpose is bound into the tag


def test_keys_rotate_and_old_rows_are_resealed():
    number = build_id_number("320106", date(1980, 5, 6), 125)
    with override_settings(YIDI_FIELD_KEYS=f"a:{KEY_A}", YIDI_BLIND_INDEX_KEY=BLIND_1):
        person = InsuredPersonFactory(id_number=number)
        assert crypto.token_key_id(raw("core_insuredperson", "id_number", person.pk)) == "a"
    with override_settings(YIDI_FIELD_KEYS=f"b:{KEY_B},a:{KEY_A}", YIDI_BLIND_INDEX_KEY=BLIND_1):
        assert InsuredPerson.objects.get(pk=person.pk).id_number == number  # old key still opens
        call_command("rotate_field_keys", stdout=io.StringIO())
        assert crypto.token_key_id(raw("core_insuredperson", "id_number", person.pk)) == "b"
        assert all(crypto.token_key_id(value) == "b"
                   for value in raw_history("core_historicalinsuredperson", "id_number", person.pk))
    with override_settings(YIDI_FIELD_KEYS=f"b:{KEY_B}", YIDI_BLIND_INDEX_KEY=BLIND_1):
        assert InsuredPerson.objects.get(pk=person.pk).id_number == number  # the old key can go
        assert InsuredPerson.objects.with_id_number(number).get() == person
    with override_settings(YIDI_FIELD_KEYS=f"b:{KEY_B}", YIDI_BLIND_INDEX_KEY=BLIND_2):
        assert not InsuredPerson.objects.with_id_number(number).exists()  # a new blind key needs the rehash
        call_command("rotate_field_keys", stdout=io.StringIO())
        assert InsuredPerson.objects.with_id_number(number).get() == person
    assert AuditLog.objects.filter(message__startswith="加密字段密钥轮换").count() == 2


def test_a_token_under_an_unknown_key_fails_loudly():
    with override_settings(YIDI_FIELD_KEYS=f"a:{KEY_A}"):
        person = InsuredPersonFactory()
    with override_settings(YIDI_FIELD_KEYS=f"b:{KEY_B}"), pytest.raises(crypto.DecryptionError, match="no key 'a'"):
        InsuredPerson.objects.get(pk=person.pk)


@pytest.mark.parametrize("raw_keys, message", [
    ("nocolon", "<id>:<base64 key>"),
    ("a:notbase64!!", "not valid base64"),
    (f"a:{base64.b64encode(b'short').decode()}", "32 bytes"),
    (f"a:{KEY_A},a:{KEY_B}", "twice"),
])
def test_bad_key_settings_are_refused_by_a_system_check(raw_keys, message):
    from core.checks import check_field_keys

    with override_settings(YIDI_FIELD_KEYS=raw_keys):
        problems = check_field_keys()
    assert problems and message in problems[0].msg


def test_production_must_name_its_own_keys():
    from core.checks import check_field_keys_deploy

    with override_settings(YIDI_FIELD_KEYS="", YIDI_BLIND_INDEX_KEY=""):
        assert [problem.id for problem in check_field_keys_deploy()] == ["yidi.E021"]
    with override_settings(YIDI_FIELD_KEYS=f"a:{KEY_A}", YIDI_BLIND_INDEX_KEY=BLIND_1):
        assert check_field_keys_deploy() == []


def test_audit_records_and_job_payloads_keep_no_whole_id_number():
    number = build_id_number("320106", date(1980, 5, 6), 127)
    entry = log_action(action=AuditLog.Action.CHANGE, message=f"核对 {number}", data={"rows": [{"号码": number}]})
    entry.refresh_from_db()
    assert number not in entry.message and "320106********" in entry.message
    assert number not in str(entry.data)
    job = start_job(kind="monitoring.render_report", title=f"导入 {number}", params={"id": number})
    job.refresh_from_db()
    assert number not in job.title and number not in str(job.params)
    assert redact_id_numbers({"a": [f"证号{number}有误", 5]}) == {"a": [f"证号{number[:6]}********{number[-4:]}有误", 5]}
    # Not an ID number: 19 digits, a filing number, a wrong check character.
    for text in ("6222021234567891234", "BA320100260208000002", number[:17] + ("0" if number[17] != "0" else "1")):
        assert redact_id_numbers(text) == text


def plain_values_in_database(secrets: set[str]) -> list[str]:
    """Every (table, column) whose stored text holds one of `secrets` or an ID number's shape."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            columns = [column[0] for column in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if value is None:
                        continue
                    text = value if isinstance(value, str) else str(value)
                    if HEX_DIGEST.fullmatch(text):
                        continue
                    if find_id_numbers(text) or any(secret in text for secret in secrets):
                        found.append(f"{table}.{column}: {text[:80]}")
    return found


def test_no_plain_id_number_or_bank_account_survives_in_the_demo_database():
    """The dump test: after seed_demo (persons, filings with proxies, claims with payee
    accounts, cooperation cases, notices, jobs, the audit trail) no table holds a whole ID
    number or bank account in plain text."""
    from cooperation.models import AssistRequest
    from reimbursement.models import Claim

    call_command("seed_demo", quiet=True)
    secrets = {person.id_number for person in InsuredPerson.objects.all()}
    secrets |= {claim.bank_account.replace(" ", "") for claim in Claim.objects.all()}
    secrets |= set(AssistRequest.objects.values_list("id_number", flat=True))
    assert len(secrets) > 20 and AssistRequest.objects.exists()
    assert plain_values_in_database(secrets) == []


def stored_bytes(document) -> bytes:
    """What the storage holds (local disk or S3), not what the document serves."""
    with document.file.storage.open(document.file.name, "rb") as handle:
        return handle.read()


def test_sealed_documents_are_ciphertext_in_storage_and_plain_when_served(tmp_path, settings):
    from core.documents import download_response, store_document
    from core.models import Document
    from core.tests.factories import make_user

    settings.MEDIA_ROOT = tmp_path
    number = build_id_number("320106", date(1980, 5, 6), 131)
    content = f"公民身份号码,{number}\n".encode("gb18030")
    with override_settings(YIDI_FIELD_KEYS=f"a:{KEY_A}"):
        document = store_document(kind="filing_upload", key="t:1", title="上传", filename="up.csv", content=content,
                                  content_type="text/csv", sealed=True)
        stored = stored_bytes(document)
        assert stored.startswith(b"enc1$a$") and number.encode() not in stored
        assert document.sha256 == Document.checksum(content) and document.size == len(content)
        user = make_user("clerk_seal", None)
        response = download_response(document, user=user)
        assert b"".join(response.streaming_content) == content
    with override_settings(YIDI_FIELD_KEYS=f"b:{KEY_B},a:{KEY_A}"):
        call_command("rotate_field_keys", stdout=io.StringIO())
        document.refresh_from_db()
        assert stored_bytes(document).startswith(b"enc1$b$")
    with override_settings(YIDI_FIELD_KEYS=f"b:{KEY_B}"):
        assert Document.objects.get(pk=document.pk).read() == content
