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


@pytest.fixture
def world(db):
    from guanjia.testing import build_world

    return build_world()
