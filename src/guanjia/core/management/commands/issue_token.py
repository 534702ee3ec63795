"""Issue an API token for a staff member: `guanjia issue_token USERNAME --name NAME [--days N]`.

The token is printed once on standard output and only its hash is stored, so it cannot be
shown again; revoke a lost token in the admin and issue a new one.
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.core.models import ApiToken


class Command(BaseCommand):
    help = "Issue an API token for a staff member and print it once."

    def add_arguments(self, parser):
        parser.add_argument("username", help="The staff member the token acts as (with their role and scope).")
        parser.add_argument("--name", required=True, help="What the token is for, e.g. the integration's name.")
        parser.add_argument("--days", type=int, default=None, help="Days until the token expires (default: never).")

    def handle(self, *args, **options):
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(_("There is no staff member “%(username)s”.") % {"username": options["username"]})
        if not user.is_active:
            raise CommandError(_("The account “%(username)s” is disabled.") % {"username": user.username})
        name = options["name"].strip()
        if not name:
            raise CommandError(_("Give the token a name."))
        days = options["days"]
        if days is not None and days < 1:
            raise CommandError(_("--days must be at least 1."))
        expires_at = timezone.now() + timedelta(days=days) if days else None
        token, raw = ApiToken.issue(user, name[:100], expires_at=expires_at)
        if expires_at:
            note = _("Token “%(name)s” for %(username)s, valid until %(date)s.") % {
                "name": token.name,
                "username": user.username,
                "date": timezone.localtime(expires_at).strftime("%Y-%m-%d %H:%M"),
            }
        else:
            note = _("Token “%(name)s” for %(username)s, valid until revoked.") % {
                "name": token.name,
                "username": user.username,
            }
        self.stderr.write(note)
        self.stderr.write(_("Store it now: it cannot be shown again."))
        self.stdout.write(raw)
