"""Serve the console with gunicorn and run the background worker beside it, until Ctrl-C."""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the web console and the background worker (http://127.0.0.1:8000 by default)."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("GUANJIA_BIND", "127.0.0.1:8000"))
        parser.add_argument("--web-workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))

    def handle(self, *args, **options):
        from guanjia import demodata

        env = dict(os.environ, DJANGO_SETTINGS_MODULE="guanjia.settings")
        bin_dir = os.path.dirname(sys.executable)
        self.stdout.write("collecting static files …")
        subprocess.run([sys.executable, "-m", "guanjia", "collectstatic", "--noinput", "-v", "0"], check=True, env=env)
        worker = subprocess.Popen([sys.executable, "-m", "guanjia", "run_huey"], env=env)
        web = subprocess.Popen(
            [
                os.path.join(bin_dir, "gunicorn"),
                "guanjia.wsgi:application",
                "--bind",
                options["bind"],
                "--workers",
                str(options["web_workers"]),
                "--threads",
                "4",
                "--access-logfile",
                "-",
            ],
            env=env,
        )
        time.sleep(1.5)
        self.stdout.write(self.style.SUCCESS(f"\n管家 Guanjia: http://{options['bind']}/  (Ctrl-C to stop)"))
        self.stdout.write(f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}")
        for line in demodata.login_lines():
            self.stdout.write(line)
        try:
            while web.poll() is None and worker.poll() is None:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        finally:
            for proc in (web, worker):
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            for proc in (web, worker):
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
