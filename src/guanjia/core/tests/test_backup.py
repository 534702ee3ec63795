"""`guanjia backup` / `guanjia restore`: an archive restores into an empty database and checks out.

The backup is taken from the test database; restores go into a second database: an SQLite file,
or on PostgreSQL a scratch database created for the test and dropped after it.
"""

import copy
import hashlib
import io
import json
import os
import tarfile
from io import StringIO
from types import SimpleNamespace

import psycopg
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import translation

from guanjia.cases.choices import CaseType, Channel
from guanjia.cases.services import do_add_attachment, do_record_case
from guanjia.core import backup
from guanjia.portal.models import OwnerPhoto, PortalAccount

# pg_dump reads the database from another session, so the test's rows must be committed.
pytestmark = pytest.mark.django_db(transaction=True)

PHOTO = bytes(range(256)) * 64 + os.urandom(1000)
DRAWING = b"%PDF-1.4\n" + os.urandom(5000)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def data(world, media):
    """Three requests; one with a staff photo, one with a drawing the owner sent through the portal."""
    w = world
    cases = [
        do_record_case(
            w.specialist,
            project=w.project,
            case_type=CaseType.REPAIR,
            channel=Channel.HOTLINE,
            description=text,
            caller_name="张伟",
            units=[w.unit_a],
        )
        for text in ("卫生间漏水，楼下天花板有水渍", "电梯异响", "小区路灯不亮")
    ]
    photo = do_add_attachment(w.specialist, cases[0], file=SimpleUploadedFile("漏水照片.jpg", PHOTO))
    drawing = do_add_attachment(w.specialist, cases[1], file=SimpleUploadedFile("图纸.pdf", DRAWING))
    OwnerPhoto.objects.create(attachment=drawing, account=PortalAccount.objects.create(phone="13812345678"))
    return SimpleNamespace(world=w, cases=cases, attachments=[photo, drawing])


def _pg_admin():
    db = connection.settings_dict
    return psycopg.connect(
        dbname=db["NAME"], host=db["HOST"] or None, port=db["PORT"] or None, user=db["USER"] or None,
        password=db["PASSWORD"] or None, autocommit=True,
    )  # fmt: skip


@pytest.fixture
def target(tmp_path):
    """Settings of a second, empty database to restore into."""
    settings_dict = copy.deepcopy(connection.settings_dict)
    if connection.vendor == "sqlite":
        settings_dict["NAME"] = str(tmp_path / "restored.sqlite3")
        yield settings_dict
        return
    name = f"test_restore_{os.getpid()}"
    with _pg_admin() as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    settings_dict["NAME"] = name
    try:
        yield settings_dict
    finally:
        with _pg_admin() as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def archive(data, tmp_path):
    path = tmp_path / "backup.tar.gz"
    backup.create_backup(path)
    return path


def repack(archive, out, change):
    """The archive again with its manifest changed by `change` and SHA256SUMS recomputed to match."""
    with tarfile.open(archive) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar]
    manifest = json.loads(members[0][1])
    change(manifest)
    members[0] = (members[0][0], json.dumps(manifest).encode())
    members = [(m, body) for m, body in members if m.name != backup.SUMS]
    sums = "".join(f"{hashlib.sha256(body).hexdigest()}  {m.name}\n" for m, body in members).encode()
    with tarfile.open(out, "w:gz") as tar:
        for member, body in [*members, (tarfile.TarInfo(backup.SUMS), sums)]:
            member.size = len(body)
            tar.addfile(member, io.BytesIO(body))
    return out


def test_backup_restores_into_an_empty_database_with_the_same_rows_and_files(data, archive, target, tmp_path, media):
    source = backup.measure()
    manifest = backup.read_manifest(archive)
    assert manifest["database"]["vendor"] == connection.vendor
    assert manifest["counts"] == source.counts
    assert manifest["counts"]["cases.Case"] == 3
    assert manifest["counts"]["cases.Attachment"] == 2
    assert manifest["counts"]["portal.OwnerPhoto"] == 1
    assert manifest["cases"] == {
        "count": 3,
        "checksum": source.case_checksum,
        "over": "id, number, status, version; ordered by id",
    }
    assert manifest["migrations"]["cases"] == source.migrations["cases"]
    assert manifest["media"] == {"included": True, "files": 2, "bytes": len(PHOTO) + len(DRAWING)}

    restored_media = tmp_path / "restored-media"
    result = backup.restore_backup(archive, db_settings=target, media_root=restored_media)

    assert result.ok, result.mismatches
    assert result.media_files == 2
    assert result.pending_migrations == 0
    assert result.key_matches
    restored = backup.measure(target)
    assert restored.counts == source.counts
    assert restored.case_checksum == source.case_checksum
    assert restored.migrations == source.migrations
    for attachment, body in zip(data.attachments, (PHOTO, DRAWING), strict=True):
        assert (
            (restored_media / attachment.file.name).read_bytes() == body == (media / attachment.file.name).read_bytes()
        )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="libpq connection services are PostgreSQL's")
def test_restore_into_a_database_named_by_a_connection_service(data, archive, target, tmp_path, monkeypatch):
    """NAME may be empty when OPTIONS names a pg_service.conf entry; pg_restore must still restore into it."""
    services = tmp_path / "pg_service.conf"
    params = {"dbname": target["NAME"], "host": target["HOST"], "port": target["PORT"], "user": target["USER"]}
    services.write_text("[guanjia_restore]\n" + "".join(f"{k}={v}\n" for k, v in params.items() if v))
    monkeypatch.setenv("PGSERVICEFILE", str(services))
    by_service = {**target, "NAME": "", "HOST": "", "PORT": "", "USER": "", "OPTIONS": {"service": "guanjia_restore"}}

    result = backup.restore_backup(archive, db_settings=by_service, media_root=tmp_path / "restored-media")

    assert result.ok, result.mismatches
    assert backup.measure(target).case_checksum == backup.measure().case_checksum


def test_restore_into_a_database_that_holds_data_is_refused_and_changes_nothing(archive, target, tmp_path):
    backup.restore_backup(archive, db_settings=target, media_root=tmp_path / "restored-media")
    # Changed after the first restore; a refused restore must leave it so.
    with backup._Database(target) as db, db.wrapper.cursor() as cursor:
        cursor.execute("UPDATE cases_case SET version = version + 10")
    changed = backup.measure(target)

    with pytest.raises(backup.BackupError, match="already holds data") as refused:
        backup.restore_backup(archive, db_settings=target, media_root=tmp_path / "other-media")
    assert "--force" in str(refused.value)
    assert backup.measure(target) == changed
    assert not any((tmp_path / "other-media").rglob("*"))

    result = backup.restore_backup(archive, db_settings=target, media_root=tmp_path / "restored-media", force=True)
    assert result.ok
    assert backup.measure(target).case_checksum == backup.measure().case_checksum


def test_restore_command_refuses_the_installations_own_database(archive, media):
    before = backup.measure()
    files_before = sorted(media.rglob("*"))

    with pytest.raises(CommandError, match="already holds data"):
        call_command("restore", str(archive), stdout=StringIO())

    assert backup.measure() == before
    assert sorted(media.rglob("*")) == files_before


def test_backup_command_writes_an_archive_that_checks_out(data, tmp_path):
    out = StringIO()
    call_command("backup", f"{tmp_path}/backups/", stdout=out)

    written = out.getvalue().strip().splitlines()[-1]
    assert written.startswith(str(tmp_path / "backups" / "guanjia-")) and written.endswith(".tar.gz")
    assert "3 requests" in out.getvalue()
    check = StringIO()
    call_command("restore", written, "--check", stdout=check)
    assert "every checksum matches" in check.getvalue()
    with pytest.raises(CommandError, match="already exists"):
        call_command("backup", written, stdout=StringIO())


def test_backup_name_must_say_tar_and_lie_outside_the_media(data, tmp_path, media):
    with pytest.raises(backup.BackupError, match=r"tar\.gz"):
        backup.create_backup(tmp_path / "backup.zip")
    assert not any(tmp_path.glob("backup*"))
    with pytest.raises(backup.BackupError, match="outside the media folder"):
        backup.create_backup(media / "backup.tar.gz")
    assert not any(media.rglob("backup*"))


def _assert_untouched(target, restored_media):
    assert backup.measure(target).counts == {}
    assert not restored_media.exists() or not any(restored_media.rglob("*"))


def test_truncated_archive_is_refused_and_nothing_is_restored(archive, target, tmp_path):
    truncated = tmp_path / "truncated.tar.gz"
    body = archive.read_bytes()
    truncated.write_bytes(body[: len(body) * 2 // 3])

    with pytest.raises(backup.BackupError, match="damaged or incomplete") as refused:
        backup.restore_backup(truncated, db_settings=target, media_root=tmp_path / "restored-media")
    assert "Nothing was restored" in str(refused.value)
    _assert_untouched(target, tmp_path / "restored-media")
    with pytest.raises(backup.BackupError, match="damaged or incomplete"):
        backup.check_archive(truncated)


def test_altered_file_in_the_archive_is_named_and_refused(data, target, tmp_path):
    plain = tmp_path / "backup.tar"  # uncompressed, so one byte of the photo can be changed in place
    backup.create_backup(plain)
    body = bytearray(plain.read_bytes())
    at = body.find(PHOTO[:512]) + 700
    body[at] ^= 0xFF
    plain.write_bytes(bytes(body))

    with pytest.raises(backup.BackupError, match=r"media/cases/.*漏水照片.*does not match its checksum"):
        backup.restore_backup(plain, db_settings=target, media_root=tmp_path / "restored-media")
    _assert_untouched(target, tmp_path / "restored-media")


def test_a_file_that_is_not_a_backup_is_refused(target, tmp_path):
    junk = tmp_path / "notes.tar.gz"
    junk.write_text("这不是备份")
    with pytest.raises(backup.BackupError, match="not a Guanjia backup"):
        backup.restore_backup(junk, db_settings=target, media_root=tmp_path / "restored-media")
    with pytest.raises(backup.BackupError, match="There is no file"):
        backup.restore_backup(tmp_path / "missing.tar.gz", db_settings=target)
    _assert_untouched(target, tmp_path / "restored-media")


def test_manifest_that_disagrees_with_the_data_is_reported_after_restore(archive, target, tmp_path):
    def tamper(manifest):
        manifest["cases"]["checksum"] = "sha256:" + "0" * 64
        manifest["counts"]["cases.Case"] += 1

    tampered = repack(archive, tmp_path / "tampered.tar.gz", tamper)

    result = backup.restore_backup(tampered, db_settings=target, media_root=tmp_path / "restored-media")

    assert not result.ok
    assert "cases.Case: 4 rows in the backup, 3 restored." in result.mismatches
    assert any("checksum of the requests differs" in line for line in result.mismatches)


def test_restore_command_fails_when_verification_fails(archive, monkeypatch):
    measurement = backup.measure()
    failed = backup.RestoreResult(
        manifest=backup.read_manifest(archive), measurement=measurement, mismatches=["cases.Case: 4 rows …"]
    )
    monkeypatch.setattr(backup, "restore_backup", lambda *args, **kwargs: failed)
    with pytest.raises(CommandError, match=r"does not match the backup's manifest:\n  - cases\.Case: 4 rows"):
        call_command("restore", str(archive), stdout=StringIO())


def test_backup_of_another_kind_of_database_is_refused(archive, target, tmp_path):
    other = "postgresql" if connection.vendor == "sqlite" else "sqlite"
    moved = repack(archive, tmp_path / "other.tar.gz", lambda m: m["database"].update(vendor=other))

    with pytest.raises(backup.BackupError, match="only into the same kind of database") as refused:
        backup.restore_backup(moved, db_settings=target, media_root=tmp_path / "restored-media")
    assert "dumpdata" in str(refused.value)
    _assert_untouched(target, tmp_path / "restored-media")


def test_backup_from_a_newer_version_is_refused(archive, target, tmp_path):
    newer = repack(archive, tmp_path / "newer.tar.gz", lambda m: m["migrations"].update(cases="9999_future"))

    with pytest.raises(backup.BackupError, match=r"newer version of Guanjia .*cases\.9999_future"):
        backup.restore_backup(newer, db_settings=target, media_root=tmp_path / "restored-media")
    _assert_untouched(target, tmp_path / "restored-media")


def test_missing_pg_dump_is_explained(data, tmp_path, monkeypatch):
    monkeypatch.setattr(backup.shutil, "which", lambda name: None)
    with pytest.raises(backup.BackupError, match=r"pg_dump was not found.*postgresql-client"):
        backup._pg_tool("pg_dump")
    if connection.vendor == "postgresql":
        with pytest.raises(backup.BackupError, match="pg_dump was not found"):
            backup.create_backup(tmp_path / "backup.tar.gz")
        assert not (tmp_path / "backup.tar.gz").exists()
