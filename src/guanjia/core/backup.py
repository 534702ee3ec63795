"""Backups: the database, the media files and a manifest in one archive (`guanjia backup` / `guanjia restore`).

An archive is a tar file (gzip-compressed when its name ends in .tar.gz or .tgz) with, in this order:

    manifest.json                       when, which Guanjia, which database; migrations; row counts;
                                        a checksum of the requests (see `_case_checksum`)
    database.sqlite3 | database.pgdump  the database as it was at one instant
    media/…                             every file under MEDIA_ROOT (case photos, attachments,
                                        owner-portal photos, imported workbooks)
    SHA256SUMS                          the sha256 of every member above, in `sha256sum -c` format

The manifest comes first so that `restore` can refuse a backup of the wrong kind before reading the
rest; SHA256SUMS comes last, so a truncated archive is recognised by its absence.

Consistency while the web and worker processes keep writing:

* SQLite: the online backup API copies the database in one step inside one read transaction. In
  WAL mode writers carry on meanwhile and the copy is the database as of the start of that step.
  Counts and the checksum are read from the copy, so the manifest describes exactly what is in it.
* PostgreSQL: a REPEATABLE READ transaction exports its snapshot, pg_dump runs with `--snapshot`,
  and the counts are read in the same transaction: the dump and the manifest see the same rows.

A backup restores only into the same kind of database (SQLite → SQLite, PostgreSQL → PostgreSQL).
Moving between the two is done with `dumpdata` / `loaddata` (docs/operations.md).
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.utils import load_backend
from django.utils import timezone
from django.utils.translation import gettext as _

FORMAT = 1
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
MEDIA_DIR = "media"
DATABASE_MEMBER = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
VENDOR_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
# Any of these holding a row means the database is in use (rows seeded by migrations, such as the
# default categories and SLA policies, do not count).
IN_USE_MODELS = ("org.Project", "org.Staff", "estate.Unit", "estate.Party", "cases.Case")
CASE_TABLE_COLUMNS = ("id", "number", "status", "version")
CHUNK = 1024 * 1024

Progress = Callable[[str], None]


class BackupError(Exception):
    """A backup or restore that cannot go on; the message tells the operator why and what to do."""


@dataclass
class Measurement:
    """What the manifest records about a database, and what restore compares it with."""

    counts: dict[str, int]
    cases: int
    case_checksum: str
    migrations: dict[str, str]


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    measurement: Measurement
    mismatches: list[str] = field(default_factory=list)
    media_files: int = 0
    pending_migrations: int = 0
    key_matches: bool = True
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.mismatches


# --- the database ---------------------------------------------------------------------------------


class _Database:
    """A private connection to the database described by a Django settings dict.

    Backup and restore never use the process's own connections: the backup needs a transaction of
    its own, and restore may target a database other than `default` (the tests restore into a second
    one). Closed by the `with` block, including an in-memory SQLite one.
    """

    def __init__(self, settings_dict: dict[str, Any]):
        self.settings_dict = copy.deepcopy(settings_dict)
        backend = load_backend(self.settings_dict["ENGINE"])
        self.wrapper = backend.DatabaseWrapper(self.settings_dict, alias="guanjia_backup")
        self.vendor = self.wrapper.vendor
        if self.vendor not in DATABASE_MEMBER:
            raise BackupError(
                _("Backups support SQLite and PostgreSQL; this database is %(vendor)s.") % {"vendor": self.vendor}
            )

    def __enter__(self) -> _Database:
        return self

    def __exit__(self, *exc) -> None:
        if self.wrapper.connection is not None:
            self.wrapper.connection.close()
            self.wrapper.connection = None

    def tables(self, cursor) -> set[str]:
        return set(self.wrapper.introspection.table_names(cursor))

    def measure(self) -> Measurement:
        with self.wrapper.cursor() as cursor:
            return _measure(cursor, self.tables(cursor))

    def tables_in_use(self) -> list[str]:
        """Names (plural, in the user's language) of the main tables that hold rows."""
        with self.wrapper.cursor() as cursor:
            tables = self.tables(cursor)
            held = []
            for label in IN_USE_MODELS:
                model = apps.get_model(label)
                if model._meta.db_table in tables:
                    cursor.execute(f"SELECT 1 FROM {_quote(model._meta.db_table)} LIMIT 1")  # noqa: S608
                    if cursor.fetchone():
                        held.append(str(model._meta.verbose_name_plural))
            return held

    def pending_migrations(self) -> int:
        """Migrations of this code not applied in the database (read with SQL: the migration
        recorder would need a registered connection alias)."""
        from django.db.migrations.loader import MigrationLoader

        graph = MigrationLoader(None, ignore_no_migrations=True).graph
        with self.wrapper.cursor() as cursor:
            if "django_migrations" in self.tables(cursor):
                cursor.execute("SELECT app, name FROM django_migrations")
                applied = {(app, name) for app, name in cursor.fetchall()}
            else:
                applied = set()
        return len(set(graph.nodes) - applied)

    def server_version(self) -> str:
        if self.vendor == "sqlite":
            return sqlite3.sqlite_version
        self.wrapper.ensure_connection()
        number = self.wrapper.pg_version
        return f"{number // 10000}.{number % 10000}"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _counted_models() -> list:
    """Every table of Guanjia's own apps, many-to-many tables included, in label order."""
    models = [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_config.name.startswith("guanjia.") and model._meta.managed and not model._meta.proxy
    ]
    return sorted(models, key=lambda model: model._meta.label)


def _case_checksum(cursor) -> tuple[int, str]:
    """sha256 over "id<TAB>number<TAB>status<TAB>version<LF>" of every request, in id order.

    Catches a restore that lost, doubled or changed requests, with the same value on either database.
    """
    columns = ", ".join(CASE_TABLE_COLUMNS)
    cursor.execute(f"SELECT {columns} FROM cases_case ORDER BY id")  # noqa: S608
    digest = hashlib.sha256()
    count = 0
    while rows := cursor.fetchmany(5000):
        count += len(rows)
        digest.update("".join(f"{i}\t{number}\t{status}\t{version}\n" for i, number, status, version in rows).encode())
    return count, "sha256:" + digest.hexdigest()


def _measure(cursor, tables: set[str]) -> Measurement:
    counts = {}
    for model in _counted_models():
        table = model._meta.db_table
        if table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {_quote(table)}")  # noqa: S608
            counts[model._meta.label] = int(cursor.fetchone()[0])
    cases, checksum = _case_checksum(cursor) if "cases_case" in tables else (0, "")
    migrations: dict[str, str] = {}
    if "django_migrations" in tables:
        cursor.execute("SELECT app, name FROM django_migrations")
        for app, name in cursor.fetchall():
            # Migration names start with a zero-padded number, so the greatest is the latest.
            if name > migrations.get(app, ""):
                migrations[app] = name
    return Measurement(counts=counts, cases=cases, case_checksum=checksum, migrations=dict(sorted(migrations.items())))


def measure(db_settings: dict[str, Any] | None = None) -> Measurement:
    """Counts, request checksum and migration state of a database (default: the installation's)."""
    with _Database(db_settings or connections[DEFAULT_DB_ALIAS].settings_dict) as db:
        return db.measure()


def _dump_sqlite(db: _Database, target: Path) -> Measurement:
    db.wrapper.ensure_connection()
    copy_ = sqlite3.connect(target)
    try:
        # pages=-1: the whole database in one step, i.e. one read transaction and one consistent
        # snapshot; with WAL the web and worker processes keep writing meanwhile.
        db.wrapper.connection.backup(copy_, pages=-1)
        # A self-contained file: no -wal/-shm beside it, whatever the source's journal mode.
        copy_.execute("PRAGMA journal_mode=DELETE")
        tables = {row[0] for row in copy_.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return _measure(copy_.cursor(), tables)
    except sqlite3.Error as exc:
        raise BackupError(_("The database could not be copied: %(error)s") % {"error": exc}) from exc
    finally:
        copy_.close()


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            _(
                "%(tool)s was not found. Install the PostgreSQL client programs (on Debian and Ubuntu: "
                "apt install postgresql-client), of the server's major version or newer, and make sure "
                "%(tool)s is on the PATH."
            )
            % {"tool": name}
        )
    return path


def _pg_env(settings_dict: dict[str, Any]) -> dict[str, str]:
    """libpq environment for pg_dump / pg_restore from Django's settings (as `dbshell` does)."""
    from django.db.backends.postgresql.client import DatabaseClient

    _args, extra = DatabaseClient.settings_to_cmd_args_env(settings_dict, [])
    env = {**os.environ, **(extra or {})}
    for variable, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER"), ("PGDATABASE", "NAME")):
        if settings_dict.get(key):
            env[variable] = str(settings_dict[key])
    return env


def _run(command: list[str], env: dict[str, str], failure: str) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip()[-2000:]
        raise BackupError(f"{failure}\n{detail}")


def _dump_postgresql(db: _Database, target: Path, *, compress: bool) -> Measurement:
    pg_dump = _pg_tool("pg_dump")
    with db.wrapper.cursor() as cursor:
        # The connection is in autocommit mode; this transaction is ours to open and close.
        cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            measurement = _measure(cursor, db.tables(cursor))
            command = [pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={target}"]
            if not compress:
                command.append("--compress=0")  # the archive is gzipped as a whole
            _run(command, _pg_env(db.settings_dict), _("pg_dump failed; no backup was written."))
        finally:
            cursor.execute("COMMIT")
    return measurement


def _load_sqlite(db: _Database, source: Path) -> None:
    db.wrapper.ensure_connection()
    staged = sqlite3.connect(source)
    try:
        # One step, one write transaction: the target becomes the backup completely or not at all.
        staged.backup(db.wrapper.connection, pages=-1)
    except sqlite3.Error as exc:
        raise BackupError(
            _("The database could not be restored (%(error)s). Nothing was changed.") % {"error": exc}
        ) from exc
    finally:
        staged.close()


def _load_postgresql(db: _Database, source: Path) -> None:
    pg_restore = _pg_tool("pg_restore")
    # --clean --if-exists replaces what a `migrate` (or --force) left; --single-transaction makes it
    # all or nothing; --no-owner/--no-privileges let another role on another server restore it.
    command = [
        pg_restore,
        "--clean",
        "--if-exists",
        "--no-owner",
        "--no-privileges",
        "--single-transaction",
        "--exit-on-error",
        # Always given: without it pg_restore writes SQL instead of restoring. An empty name (a
        # `service` in OPTIONS) lets libpq take the database from PGSERVICE/PGDATABASE, as psql does.
        f"--dbname={db.settings_dict.get('NAME') or ''}",
        str(source),
    ]
    _run(command, _pg_env(db.settings_dict), _("pg_restore failed; the database was not changed."))
    db.wrapper.close()  # the next query opens a fresh session that sees the restored schema


# --- the archive ---------------------------------------------------------------------------------


def _compression(path: Path) -> str:
    name = path.name.lower()
    if name.endswith((".tar.gz", ".tgz")):
        return "gz"
    if name.endswith(".tar"):
        return ""
    raise BackupError(_("Name the backup file …tar.gz (compressed) or …tar."))


def default_backup_name() -> str:
    return f"guanjia-{timezone.localtime():%Y%m%d-%H%M%S}.tar.gz"


def _data_key_fingerprint() -> str:
    """Tells whether two installations encrypt ID numbers with the same key, without revealing it."""
    from guanjia.estate.identity import id_digest

    return id_digest("guanjia-backup-key-check")[:16]


def _version() -> str:
    try:
        return metadata.version("guanjia")
    except metadata.PackageNotFoundError:
        return "unknown"


def _media_files(media_root: Path) -> list[tuple[str, Path]]:
    """(member name, path) of every regular file under MEDIA_ROOT; symbolic links are not followed."""
    found = []
    if not media_root.is_dir():
        return found
    for folder, dirs, files in os.walk(media_root):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder) / name
            relative = path.relative_to(media_root).as_posix()
            if path.is_symlink() or not path.is_file() or "\n" in relative or "\\" in relative:
                continue
            found.append((f"{MEDIA_DIR}/{relative}", path))
    return found


def _media_is_local() -> bool:
    from django.core.files.storage import FileSystemStorage, default_storage

    return isinstance(default_storage, FileSystemStorage)


class _HashingReader:
    def __init__(self, raw):
        self.raw = raw
        self.sha256 = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.sha256.update(data)
        return data


def _tarinfo(name: str, size: int, mtime: float) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = int(mtime)
    info.mode = 0o644
    return info


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> str:
    tar.addfile(_tarinfo(name, len(data), time.time()), io.BytesIO(data))
    return hashlib.sha256(data).hexdigest()


def _add_file(tar: tarfile.TarFile, name: str, path: Path) -> tuple[str, int] | None:
    try:
        handle = path.open("rb")
    except FileNotFoundError:  # removed since it was listed
        return None
    with handle:
        stat = os.fstat(handle.fileno())
        reader = _HashingReader(handle)
        tar.addfile(_tarinfo(name, stat.st_size, stat.st_mtime), reader)
        return reader.sha256.hexdigest(), stat.st_size


def create_backup(
    path: Path | str,
    *,
    db_settings: dict[str, Any] | None = None,
    media_root: Path | str | None = None,
    include_media: bool = True,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Write one archive with the database, the media files and the manifest; return the manifest.

    The archive is written under a temporary name and renamed when complete, so a backup that fails
    or is interrupted never leaves a file that looks like a backup.
    """
    say = progress or (lambda line: None)
    path = Path(path)
    compression = _compression(path)
    settings_dict = db_settings or connections[DEFAULT_DB_ALIAS].settings_dict
    media_root = Path(media_root or settings.MEDIA_ROOT)
    media_included = include_media and _media_is_local()
    if media_included and path.resolve().is_relative_to(media_root.resolve()):
        raise BackupError(_("Write the backup outside the media folder %(path)s.") % {"path": media_root})
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=".guanjia-backup-", dir=path.parent) as staging:
        with _Database(settings_dict) as db:
            vendor = db.vendor
            say(_("Copying the database (%(vendor)s) …") % {"vendor": VENDOR_NAMES[vendor]})
            dump = Path(staging) / DATABASE_MEMBER[vendor]
            taken = datetime.now(UTC)  # the instant the copy describes, give or take its start-up
            if vendor == "sqlite":
                measurement = _dump_sqlite(db, dump)
            else:
                measurement = _dump_postgresql(db, dump, compress=not compression)
            server_version = db.server_version()
        media = _media_files(media_root) if media_included else []
        manifest = {
            "format": FORMAT,
            "created_at": taken.isoformat(timespec="seconds"),
            "guanjia_version": _version(),
            "database": {
                "vendor": vendor,
                "server_version": server_version,
                "file": DATABASE_MEMBER[vendor],
                "bytes": dump.stat().st_size,
            },
            "migrations": measurement.migrations,
            "counts": measurement.counts,
            "cases": {
                "count": measurement.cases,
                "checksum": measurement.case_checksum,
                "over": "id, number, status, version; ordered by id",
            },
            "media": {
                "included": media_included,
                "files": len(media),
                "bytes": sum(p.stat().st_size for _n, p in media if p.exists()),
            },
            "data_key": _data_key_fingerprint(),
        }
        if media:
            say(_("Adding %(count)s media files …") % {"count": len(media)})
        partial = path.with_name(path.name + ".partial")
        sums = []
        try:
            options = {"compresslevel": 6} if compression else {}
            with tarfile.open(
                partial, f"w:{compression}", format=tarfile.PAX_FORMAT, encoding="utf-8", **options
            ) as tar:
                body = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
                sums.append((_add_bytes(tar, MANIFEST, body), MANIFEST))
                added = _add_file(tar, DATABASE_MEMBER[vendor], dump)
                sums.append((added[0], DATABASE_MEMBER[vendor]))
                for name, file_path in media:
                    added = _add_file(tar, name, file_path)
                    if added is not None:
                        sums.append((added[0], name))
                _add_bytes(tar, SUMS, "".join(f"{digest}  {name}\n" for digest, name in sums).encode())
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
    manifest["seconds"] = round(time.monotonic() - started, 2)
    manifest["archive_bytes"] = path.stat().st_size
    return manifest


# --- reading an archive -------------------------------------------------------------------------


def _damaged(error: object) -> BackupError:
    return BackupError(_("The archive is damaged or incomplete (%(error)s). Nothing was restored.") % {"error": error})


_READ_ERRORS = (tarfile.TarError, EOFError, zlib.error, OSError, UnicodeDecodeError)


def _open_archive(path: Path) -> tarfile.TarFile:
    if not path.is_file():
        raise BackupError(_("There is no file %(path)s.") % {"path": path})
    try:
        # Stream mode: every member is read once, in order, never seeking back.
        return tarfile.open(path, "r|*", encoding="utf-8")
    except _READ_ERRORS as exc:
        raise BackupError(
            _("%(path)s is not a Guanjia backup, or it is damaged (%(error)s).") % {"path": path, "error": exc}
        ) from exc


def _parse_manifest(data: bytes, path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _damaged(_("the manifest is not valid JSON")) from exc
    if not isinstance(manifest, dict) or "database" not in manifest or "format" not in manifest:
        raise BackupError(_("%(path)s is not a Guanjia backup (its manifest is not one).") % {"path": path})
    return manifest


def read_manifest(path: Path | str) -> dict[str, Any]:
    """The manifest, read from the start of the archive without reading the rest."""
    path = Path(path)
    with _open_archive(path) as tar:
        try:
            member = tar.next()
            if member is None or member.name != MANIFEST or not member.isfile():
                raise BackupError(_("%(path)s is not a Guanjia backup (no manifest).") % {"path": path})
            data = tar.extractfile(member).read()
        except _READ_ERRORS as exc:
            raise _damaged(exc) from exc
    return _parse_manifest(data, path)


def _member_path(name: str, database_file: str) -> PurePosixPath | None:
    """The member's path relative to the staging folder, or None when the member has no business here."""
    if name in (MANIFEST, SUMS) or (name == database_file and name in DATABASE_MEMBER.values()):
        return PurePosixPath(name)
    path = PurePosixPath(name)
    if (
        len(path.parts) >= 2
        and path.parts[0] == MEDIA_DIR
        and not path.is_absolute()
        and all(part not in ("", ".", "..") for part in path.parts)
    ):
        return path
    return None


def extract_verified(path: Path | str, staging: Path | str) -> dict[str, Any]:
    """Unpack the archive into `staging`, checking every member against SHA256SUMS; return the manifest.

    Raises BackupError, naming the problem, when a member is missing, extra, altered or cut short.
    """
    path, staging = Path(path), Path(staging)
    digests: dict[str, str] = {}
    manifest: dict[str, Any] | None = None
    sums_text: str | None = None
    with _open_archive(path) as tar:
        try:
            for member in tar:
                if manifest is None:
                    if member.name != MANIFEST or not member.isfile():
                        raise BackupError(_("%(path)s is not a Guanjia backup (no manifest).") % {"path": path})
                    data = tar.extractfile(member).read()
                    digests[MANIFEST] = hashlib.sha256(data).hexdigest()
                    manifest = _parse_manifest(data, path)
                    continue
                if sums_text is not None:
                    raise _damaged(_("%(name)s after the list of checksums") % {"name": member.name})
                database_file = str(manifest["database"].get("file", ""))
                relative = _member_path(member.name, database_file)
                if relative is None or not member.isfile() or member.name in digests:
                    raise _damaged(_("unexpected member %(name)s") % {"name": member.name})
                source = tar.extractfile(member)
                if member.name == SUMS:
                    sums_text = source.read().decode()
                    continue
                target = staging.joinpath(*relative.parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                with target.open("wb") as out:
                    while chunk := source.read(CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                os.utime(target, (member.mtime, member.mtime))
                digests[member.name] = digest.hexdigest()
        except BackupError:
            raise
        except _READ_ERRORS as exc:
            raise _damaged(exc) from exc
    if manifest is None:
        raise BackupError(_("%(path)s is not a Guanjia backup (no manifest).") % {"path": path})
    if sums_text is None:
        raise _damaged(_("the list of checksums at its end is missing"))
    expected = {}
    for line in sums_text.splitlines():
        digest, _sep, name = line.partition("  ")
        expected[name] = digest
    for name, digest in expected.items():
        if name not in digests:
            raise _damaged(_("%(name)s is missing") % {"name": name})
        if digests[name] != digest:
            raise _damaged(_("%(name)s does not match its checksum") % {"name": name})
    extra = sorted(set(digests) - set(expected))
    if extra:
        raise _damaged(_("%(name)s is not in the list of checksums") % {"name": extra[0]})
    if manifest["database"].get("file") not in digests:
        raise _damaged(_("the database is missing"))
    return manifest


def check_archive(path: Path | str) -> dict[str, Any]:
    """Read and verify the whole archive without restoring anything; return the manifest."""
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix=".guanjia-check-") as staging:
        manifest = extract_verified(path, staging)
    _check_format(manifest)
    return manifest


# --- restore -------------------------------------------------------------------------------------


def _check_format(manifest: dict[str, Any]) -> None:
    if manifest.get("format") != FORMAT:
        raise BackupError(
            _("This backup has format %(format)s, which this version of Guanjia cannot read. Upgrade Guanjia first.")
            % {"format": manifest.get("format")}
        )


def _check_restorable(manifest: dict[str, Any], vendor: str) -> None:
    from django.db.migrations.loader import MigrationLoader

    _check_format(manifest)
    source = manifest["database"].get("vendor")
    if source != vendor:
        raise BackupError(
            _(
                "This backup is of a %(source)s database, and this installation uses %(target)s. A backup "
                "restores only into the same kind of database. To move data between SQLite and PostgreSQL, "
                "use `guanjia dumpdata` and `guanjia loaddata` as described in docs/operations.md."
            )
            % {"source": VENDOR_NAMES.get(source, source), "target": VENDOR_NAMES[vendor]}
        )
    loader = MigrationLoader(None, ignore_no_migrations=True)
    for app, name in manifest.get("migrations", {}).items():
        # Apps unknown here are not judged: django_migrations keeps the rows of apps long removed.
        if app in loader.migrated_apps and (app, name) not in loader.disk_migrations:
            raise BackupError(
                _(
                    "This backup comes from a newer version of Guanjia (%(version)s; migration %(app)s.%(name)s "
                    "is unknown here). Upgrade Guanjia to that version or later, then restore."
                )
                % {"version": manifest.get("guanjia_version", "?"), "app": app, "name": name}
            )


def _staging_dir(media_root: Path) -> tempfile.TemporaryDirectory:
    """Next to MEDIA_ROOT when possible, so the files move into place by renaming."""
    try:
        media_root.mkdir(parents=True, exist_ok=True)
        return tempfile.TemporaryDirectory(prefix=".guanjia-restore-", dir=media_root.parent)
    except OSError:
        return tempfile.TemporaryDirectory(prefix=".guanjia-restore-")


def _move_media(staged: Path, media_root: Path) -> int:
    moved = 0
    if not staged.is_dir():
        return moved
    for folder, _dirs, files in os.walk(staged):
        for name in files:
            source = Path(folder) / name
            target = media_root / source.relative_to(staged)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(source, target)
            moved += 1
    return moved


def compare(manifest: dict[str, Any], measurement: Measurement) -> list[str]:
    """What differs between the manifest and a restored database, one sentence each."""
    mismatches = []
    for label, expected in manifest.get("counts", {}).items():
        found = measurement.counts.get(label)
        if found is None:
            mismatches.append(_("%(table)s: missing after the restore.") % {"table": label})
        elif found != expected:
            mismatches.append(
                _("%(table)s: %(expected)s rows in the backup, %(found)s restored.")
                % {"table": label, "expected": expected, "found": found}
            )
    cases = manifest.get("cases", {})
    if cases.get("checksum") != measurement.case_checksum:
        mismatches.append(
            _(
                "The checksum of the requests differs from the backup's "
                "(%(expected)s requests in the backup, %(found)s restored)."
            )
            % {"expected": cases.get("count"), "found": measurement.cases}
        )
    return mismatches


def restore_backup(
    path: Path | str,
    *,
    db_settings: dict[str, Any] | None = None,
    media_root: Path | str | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> RestoreResult:
    """Restore an archive into an empty database (any database with `force`), then verify it.

    Everything that can be checked beforehand is: the kind of database, the migrations, that the
    database is empty, and every byte of the archive. A refusal changes nothing. The database is
    replaced in one transaction, then the media files are moved into MEDIA_ROOT (files of the same
    name are replaced, others are left alone), then counts and the request checksum are compared
    with the manifest; differences are returned in `mismatches`, not raised.
    """
    say = progress or (lambda line: None)
    path = Path(path)
    settings_dict = db_settings or connections[DEFAULT_DB_ALIAS].settings_dict
    media_root = Path(media_root or settings.MEDIA_ROOT)
    started = time.monotonic()
    with _Database(settings_dict) as db:
        manifest = read_manifest(path)
        _check_restorable(manifest, db.vendor)
        if not force:
            held = db.tables_in_use()
            if held:
                raise BackupError(
                    _(
                        "The database already holds data (%(tables)s). Restore into an empty database, or add "
                        "--force to replace everything in it with the backup."
                    )
                    % {"tables": ", ".join(held)}
                )
        with _staging_dir(media_root) as staging:
            say(_("Checking the archive …"))
            staging = Path(staging)
            extract_verified(path, staging)
            say(_("Restoring the database …"))
            database_file = staging / manifest["database"]["file"]
            if db.vendor == "sqlite":
                _load_sqlite(db, database_file)
            else:
                _load_postgresql(db, database_file)
            say(_("Restoring the media files …"))
            try:
                media_files = _move_media(staging / MEDIA_DIR, media_root)
            except OSError as exc:
                raise BackupError(
                    _("The database was restored, but the media files could not be written to %(path)s: %(error)s")
                    % {"path": media_root, "error": exc}
                ) from exc
        say(_("Verifying …"))
        measurement = db.measure()
        result = RestoreResult(
            manifest=manifest,
            measurement=measurement,
            mismatches=compare(manifest, measurement),
            media_files=media_files,
            pending_migrations=db.pending_migrations(),
            key_matches=manifest.get("data_key") in (None, _data_key_fingerprint()),
        )
    result.seconds = round(time.monotonic() - started, 2)
    return result


def summary(manifest: dict[str, Any]) -> str:
    """One line about a backup: when, which version, which database, how much."""
    created = manifest.get("created_at", "")
    try:
        created = timezone.localtime(datetime.fromisoformat(created)).strftime("%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError):
        pass
    vendor = manifest.get("database", {}).get("vendor")
    return _(
        "Backup of %(created)s, Guanjia %(version)s, %(vendor)s: %(cases)s requests, %(rows)s rows in "
        "%(tables)s tables, %(files)s media files."
    ) % {
        "created": created,
        "version": manifest.get("guanjia_version", "?"),
        "vendor": VENDOR_NAMES.get(vendor, vendor),
        "cases": manifest.get("cases", {}).get("count", 0),
        "rows": sum(manifest.get("counts", {}).values()),
        "tables": len(manifest.get("counts", {})),
        "files": manifest.get("media", {}).get("files", 0),
    }
