import pytest

from guanjia.estate.queries import search_parties


@pytest.mark.parametrize(
    "query", ["李娜", "李", "lina", "ln", "1502", "3-2-1502", "3栋1502", "3栋2单元1502", "3号楼2单元1502室"]
)
def test_search_finds_party_by_name_pinyin_initials_phone_and_room(world, query):
    found = list(search_parties(world.specialist, query))
    assert world.owner_b in found
    assert world.owner_a not in found


def test_search_by_phone_tail_and_longer_tail(world):
    assert list(search_parties(world.specialist, "5678")) == [world.owner_a]
    assert list(search_parties(world.specialist, "2345678")) == [world.owner_a]


def test_search_stays_inside_scope(world):
    assert list(search_parties(world.specialist, "王芳")) == []
    assert list(search_parties(world.outsider, "王芳")) == [world.other_owner]
    # The butler serves area B only: 3栋 is there, 1栋 is not.
    assert list(search_parties(world.butler, "李娜")) == [world.owner_b]
    assert list(search_parties(world.butler, "张伟")) == []
