"""`guanjia import FILE.xlsx --project CODE --user USERNAME [--dry-run]`: the console's import, from a shell.

The workbook is checked and committed exactly as an upload is, as the given staff member
(whose role and scope apply). A real import is recorded as an import job (without the file), so it
appears among the recent imports in the console; a dry run only checks and records nothing.
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.estate.importer import do_import_ledger, format_problem, importable_projects, validate_ledger
from guanjia.estate.models import ImportJob


class Command(BaseCommand):
    help = "Import units and owners from a ledger workbook (.xlsx) into one project."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the .xlsx workbook, made from the template")
        parser.add_argument("--project", required=True, help="project code")
        parser.add_argument("--user", required=True, help="username of the staff member importing")
        parser.add_argument("--dry-run", action="store_true", help="check the workbook, change nothing")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_("File not found: %(path)s") % {"path": path})
        user = get_user_model().objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(_("No active staff member is called “%(name)s”.") % {"name": options["user"]})
        project = importable_projects(user).filter(code=options["project"]).first()
        if project is None:
            raise CommandError(
                _("%(user)s may not import into a project with code “%(code)s”.")
                % {"user": user.username, "code": options["project"]}
            )

        def progress(done: int, total: int) -> None:
            if done:
                self.stdout.write(_("Checked %(done)s of %(total)s rows") % {"done": done, "total": total})

        try:
            with path.open("rb") as handle:
                plan = validate_ledger(user, project, handle, progress=progress)
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from exc

        if plan.problems:
            for problem in plan.problems:
                self.stdout.write(format_problem(problem))
            if not options["dry_run"]:
                self._record(path, user, project, plan.total_rows, ImportJob.Status.INVALID, errors=plan.problems)
            raise CommandError(
                _("%(count)s problems found; nothing was imported.") % {"count": len(plan.problems)}, returncode=1
            )
        if options["dry_run"]:
            self.stdout.write(
                self.style.SUCCESS(
                    _("%(rows)s rows checked, no problems found. Nothing was imported (dry run).")
                    % {"rows": plan.total_rows}
                )
            )
            return
        try:
            summary = do_import_ledger(plan)
        except IntegrityError as exc:
            raise CommandError(
                _("The ledger changed while importing; nothing was imported. Please run the import again.")
            ) from exc
        summary["rows"] = plan.total_rows
        self._record(path, user, project, plan.total_rows, ImportJob.Status.DONE, summary=summary)
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "%(rows)s rows imported: %(units_created)s units created, %(units_updated)s updated; "
                    "%(parties_created)s parties created, %(parties_updated)s updated; "
                    "%(occupancies_created)s occupancies created."
                )
                % summary
            )
        )

    def _record(self, path: Path, user, project, rows: int, status: str, *, errors=None, summary=None) -> None:
        job = ImportJob(
            original_name=path.name[:200],
            project=project,
            created_by=user,
            status=status,
            total_rows=rows,
            processed_rows=rows,
            errors=errors or [],
            summary=summary or {},
            finished_at=timezone.now(),
        )
        # Like an upload, the workbook itself is not kept: it holds whole ID numbers.
        job.save()
