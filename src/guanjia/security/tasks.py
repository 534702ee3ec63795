"""Daily upkeep: forget sign-in records and lockouts older than the retention time.

China's Cybersecurity Law asks for network logs to be kept at least six months; the default
(`GUANJIA_SIGN_IN_RECORDS_DAYS`, 200 days) keeps them a little longer than that and no more.
"""

from datetime import timedelta

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .models import SignInLockout

DEFAULT_RECORDS_DAYS = 200


def purge_sign_in_records(now=None) -> int:
    days = int(getattr(settings, "GUANJIA_SIGN_IN_RECORDS_DAYS", DEFAULT_RECORDS_DAYS))
    now = now or timezone.now()
    removed = AxesProxyHandler.reset_logs(age_days=days)
    removed += AxesProxyHandler.reset_failure_logs(age_days=days)
    removed += SignInLockout.objects.filter(started_at__lt=now - timedelta(days=days)).delete()[0]
    return removed


@db_periodic_task(crontab(hour="3", minute="41"))
def purge_old_sign_in_records() -> int:
    return purge_sign_in_records()
