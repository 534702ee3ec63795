"""Load the demo data: `guanjia demo [--if-empty] [--scale N] [--seed S]`."""

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError
from django.utils.translation import gettext as _


class Command(BaseCommand):
    help = "Load the demo data (a group, city companies, projects, units, owners and staff) into an empty database."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when the database already holds a project."
        )
        parser.add_argument("--scale", type=int, default=1, help="Multiply projects and units: 1, 10, 100 …")
        parser.add_argument("--seed", type=int, default=None, help="Random seed; the same seed gives the same data.")
        parser.add_argument(
            "--cases", type=int, default=30, help="Service requests recorded per project (first four projects)."
        )

    def handle(self, *args, **options):
        from guanjia import demodata
        from guanjia.org.models import Project

        scale = options["scale"]
        seed = demodata.DEFAULT_SEED if options["seed"] is None else options["seed"]
        if scale < 1:
            raise CommandError(_("--scale must be 1 or more."))
        if Project.objects.exists():
            if options["if_empty"]:
                self.stdout.write(_("The database already holds data; the demo was not loaded."))
                return
            raise CommandError(_("The database already holds data. Load the demo into an empty database."))
        self.stdout.write(
            _("Loading the demo data (scale %(scale)s, seed %(seed)s) …") % {"scale": scale, "seed": seed}
        )
        try:
            result = demodata.load(scale, seed, progress=lambda line: self.stdout.write(f"  {line}"))
        except IntegrityError as exc:
            # e.g. an account named like a demo account already exists; nothing was written.
            raise CommandError(_("The demo data could not be loaded: %(error)s") % {"error": exc}) from exc
        counts = result.counts
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Loaded in %(seconds).1f s: %(projects)s projects, %(buildings)s buildings, %(units)s units, "
                    "%(parties)s parties, %(occupancies)s occupancies, %(staff)s staff."
                )
                % {"seconds": result.seconds, **counts}
            )
        )
        if options["cases"] > 0:
            from guanjia.cases.demo import load_demo_cases

            recorded = load_demo_cases(seed, per_project=options["cases"])
            self.stdout.write(_("Recorded %(count)s service requests.") % {"count": recorded})
        owner_phone = self._channels()
        for line in demodata.login_lines():
            self.stdout.write(line)
        if owner_phone:
            self.stdout.write(
                _("Owner portal  /m/ — sign in with %(phone)s; the code appears under Owner portal → Demo SMS (admin).")
                % {"phone": owner_phone}
            )

    def _channels(self):
        """The owner portal, hotline, WeChat and report data that sit on top of the requests."""
        from guanjia.portal.demo import load_demo_portal
        from guanjia.reports.demo import load_demo_reports
        from guanjia.telephony.demo import load_demo_calls
        from guanjia.wechat.demo import load_demo_wechat

        owner_phone = load_demo_portal()
        calls = load_demo_calls()
        drafts = load_demo_wechat()
        reports = load_demo_reports()
        self.stdout.write(
            _("Hotline: %(calls)s calls; WeChat: %(drafts)s drafts; %(reports)s report drafts.")
            % {"calls": calls, "drafts": drafts, "reports": reports}
        )
        return owner_phone
