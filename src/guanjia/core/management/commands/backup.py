"""Back up the database and the media files into one archive: `guanjia backup [PATH] [--no-media]`.

PATH is the archive (…tar.gz or …tar) or a folder for it; by default var/backups/. The last line
printed is the archive's path, for scripts. See docs/operations.md.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from guanjia.core import backup


class Command(BaseCommand):
    help = "Back up the database and the media files into one archive (safe while Guanjia is running)."

    def add_arguments(self, parser):
        parser.add_argument(
            "path",
            nargs="?",
            default=None,
            help="The archive to write (…tar.gz or …tar), or a folder for it. Default: var/backups/.",
        )
        parser.add_argument("--no-media", action="store_true", help="Leave out the media files (database only).")

    def handle(self, *args, **options):
        path = Path(options["path"]) if options["path"] else settings.VAR_DIR / "backups"
        if path.is_dir() or not options["path"] or options["path"].endswith(("/", "\\")):
            path = path / backup.default_backup_name()
        if path.exists():
            raise CommandError(_("%(path)s already exists; choose another name.") % {"path": path})
        say = self.stdout.write if options["verbosity"] >= 1 else None
        try:
            manifest = backup.create_backup(path, include_media=not options["no_media"], progress=say)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        if options["verbosity"] >= 1:
            self.stdout.write(backup.summary(manifest))
            if not manifest["media"]["included"] and not options["no_media"]:
                self.stdout.write(
                    self.style.WARNING(
                        _("The media files are kept in object storage, not on this machine; back them up there.")
                    )
                )
            self.stdout.write(
                self.style.SUCCESS(
                    _("Backup written in %(seconds).1f s (%(size)s):")
                    % {"seconds": manifest["seconds"], "size": filesizeformat(manifest["archive_bytes"])}
                )
            )
        self.stdout.write(str(path.resolve()))
