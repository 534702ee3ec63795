"""Copy the front-end files the pages load from node_modules (installed by npm) into var/vendor."""

import shutil

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

ASSETS = {
    "tabler/tabler.min.css": "@tabler/core/dist/css/tabler.min.css",
    "tabler/tabler.min.js": "@tabler/core/dist/js/tabler.min.js",
    "htmx/htmx.min.js": "htmx.org/dist/htmx.min.js",
    # Alpine's CSP build: it evaluates x-/@ expressions without eval, as the Content-Security-Policy requires.
    "alpinejs/csp.min.js": "@alpinejs/csp/dist/cdn.min.js",
    "echarts/echarts.min.js": "echarts/dist/echarts.min.js",
}


class Command(BaseCommand):
    help = "Copy front-end libraries from node_modules into the static files."

    def handle(self, *args, **options):
        for target, source in ASSETS.items():
            src = settings.NODE_MODULES / source
            if not src.exists():
                raise CommandError(f"{src} is missing: run `npm ci` first.")
            dest = settings.VENDOR_DIR / target
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)
        self.stdout.write(f"copied {len(ASSETS)} front-end files to {settings.VENDOR_DIR}")
