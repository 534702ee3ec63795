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


@pytest.fixture
def world(db):
    from guanjia.cases.defaults import ensure_defaults
    from guanjia.testing import build_world

    # Transactional tests (browser, worker) flush the database, seeded rows included.
    ensure_defaults()
    return build_world()
