import pytest


@pytest.fixture(autouse=True)
def _huey_immediate(request):
    """Background tasks run inline in tests, unless a test talks to a real worker (marked `worker`)."""
    from huey.contrib.djhuey import HUEY

    if request.node.get_closest_marker("worker"):
        yield
        return
    previous = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = previous


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hashing a password properly takes ~0.3 s; tests create many accounts."""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]


@pytest.fixture(autouse=True)
def _fresh_content_types():
    """A transactional test's flush recreates content types under new ids on PostgreSQL; the
    per-process cache would still hand out the old ones to the change history."""
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()


@pytest.fixture(autouse=True)
def _fresh_case_config():
    """Rolled-back tests leave no signal behind: forget the policies, rules and categories kept in memory."""
    from guanjia.cases import config

    config.clear()
    yield
    config.clear()


@pytest.fixture(autouse=True)
def _seeded_defaults(request):
    """Transactional tests (browser, worker, concurrency) flush the database, rows seeded by
    migrations included; put the default categories and SLA policies back for the next test."""
    if not ({"db", "transactional_db"} & set(request.fixturenames) or request.node.get_closest_marker("django_db")):
        return
    from guanjia.cases.defaults import ensure_defaults

    request.getfixturevalue("transactional_db" if _is_transactional(request) else "db")
    ensure_defaults()


def _is_transactional(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return "transactional_db" in request.fixturenames or bool(marker and marker.kwargs.get("transaction"))


@pytest.fixture
def world(db):
    from guanjia.testing import build_world

    return build_world()
