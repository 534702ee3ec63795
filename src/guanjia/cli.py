"""The `guanjia` command: manage.py with a few shortcuts.

guanjia serve            web console and background worker on http://127.0.0.1:8000
guanjia worker           the background worker alone
guanjia demo [--scale N] load the demo data
guanjia import FILE      import a unit/owner ledger workbook
guanjia backup [PATH]    back up the database and media files into one archive
guanjia restore FILE     restore such an archive into an empty database and verify it
guanjia <command>        any Django management command (migrate, createsuperuser, …)
"""

import os
import sys

ALIASES = {"worker": "run_huey", "import": "import_ledger", "serve": "serve"}


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanjia.settings")
    argv = list(sys.argv if argv is None else argv)
    if len(argv) > 1 and argv[1] in ALIASES:
        argv[1] = ALIASES[argv[1]]
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
