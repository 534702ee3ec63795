"""Restore a backup made by `guanjia backup`: `guanjia restore FILE [--force] [--check]`.

Into an empty database only, unless --force; then the counts and the request checksum are compared
with the backup's manifest. --check reads and verifies the archive without restoring anything.
Stop the web and worker processes first. See docs/operations.md.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from guanjia.core import backup


class Command(BaseCommand):
    help = "Restore a backup (database and media files) into an empty database and verify it."

    def add_arguments(self, parser):
        parser.add_argument("file", help="The archive written by `guanjia backup`.")
        parser.add_argument(
            "--force", action="store_true", help="Replace the database even though it already holds data."
        )
        parser.add_argument("--check", action="store_true", help="Only read and verify the archive; change nothing.")

    def handle(self, *args, **options):
        say = self.stdout.write if options["verbosity"] >= 1 else None
        try:
            if options["check"]:
                manifest = backup.check_archive(options["file"])
                self.stdout.write(backup.summary(manifest))
                self.stdout.write(self.style.SUCCESS(_("The archive is complete and every checksum matches.")))
                return
            self.stdout.write(backup.summary(backup.read_manifest(options["file"])))
            result = backup.restore_backup(options["file"], force=options["force"], progress=say)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            _("Restored in %(seconds).1f s; %(files)s media files written to %(path)s.")
            % {"seconds": result.seconds, "files": result.media_files, "path": settings.MEDIA_ROOT}
        )
        if not result.key_matches:
            self.stdout.write(
                self.style.WARNING(
                    _(
                        "The ID numbers in this backup were encrypted with another key than this installation's, "
                        "so they cannot be read. Give this installation the original key: the same SECRET_KEY "
                        "(or GUANJIA_DATA_KEY) setting, or the original var/secret_key file, then restart Guanjia."
                    )
                )
            )
        if result.pending_migrations:
            self.stdout.write(
                self.style.WARNING(
                    _("The backup is from an older version: run `guanjia migrate` to apply %(count)s migrations.")
                    % {"count": result.pending_migrations}
                )
            )
        if not result.ok:
            raise CommandError(
                _("The restored database does not match the backup's manifest:")
                + "\n"
                + "\n".join(f"  - {line}" for line in result.mismatches)
            )
        measured = result.measurement
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Verified: %(tables)s tables and %(rows)s rows match the backup; the checksum of the "
                    "%(cases)s requests matches."
                )
                % {"tables": len(measured.counts), "rows": sum(measured.counts.values()), "cases": measured.cases}
            )
        )
