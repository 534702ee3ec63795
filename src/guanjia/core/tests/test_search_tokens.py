"""Search tokens: every query term of a text that contains the query is among the text's tokens."""

import pytest

from guanjia.core.search import MAX_QUERY_TERMS, query_tokens, token_list, tokens_for


def finds(text: str, query: str) -> bool:
    """What the databases do: every term is a token of the text (or, with *, starts one)."""
    terms = query_tokens(query)
    tokens = token_list(text)
    return bool(terms) and all(
        any(t.startswith(term[:-1]) for t in tokens) if term.endswith("*") else term in tokens for term in terms
    )


@pytest.mark.parametrize("text", ["卫生间漏水严重", "楼上漏水了", "厨房水管漏水", "漏水", "业主反映：阳台漏水！"])
def test_two_character_word_is_found_however_jieba_cuts_the_text(text):
    assert finds(text, "漏水")


def test_same_characters_in_another_word_are_not_found():
    assert not finds("水漏了", "漏水")
    assert finds("水漏了", "水漏了")


def test_query_words_need_not_stand_together_in_the_text():
    assert finds("卫生间漏水很严重", "漏水严重")
    assert finds("严重的问题：卫生间漏水", "漏水 严重")
    assert not finds("卫生间漏水", "漏水 严重")


def test_longer_words_are_found_through_their_bigrams():
    assert query_tokens("卫生间") == ["卫生", "生间"]
    assert finds("主卫生间地漏堵塞", "卫生间")


def test_neighbouring_single_characters_are_read_as_written():
    assert query_tokens("水管漏了") == ["水管", "漏了"]
    assert finds("厨房水管漏了", "水管漏了")


def test_single_character_query_is_a_prefix():
    assert query_tokens("漏") == ["漏*"]
    assert query_tokens("漏 水") == ["漏*", "水*"]
    assert finds("水漏了", "漏")
    assert finds("3栋2单元1502", "栋")


def test_single_characters_beside_longer_terms_are_left_out():
    assert query_tokens("3栋 1502") == ["3", "1502"]
    assert query_tokens("水管 漏") == ["水管"]


def test_index_holds_jieba_words_bigrams_and_latin_and_digit_words_lower_cased_once():
    tokens = tokens_for("卫生间漏水严重 WiFi 1502", "漏水")
    assert tokens.split() == ["卫生", "卫生间", "漏水", "严重", "生间", "间漏", "水严", "wifi", "1502"]


def test_full_width_letters_and_digits_are_normalised():
    assert tokens_for("ＷｉＦｉ１５０２") == "wifi1502"
    assert query_tokens("１５０２") == ["1502"]


def test_room_labels_split_into_searchable_parts():
    assert finds("3栋2单元1502", "1502") and finds("3栋2单元1502", "单元")


@pytest.mark.parametrize("query", ["", "   ", "！？。，", "---", '"*"', "()"])
def test_query_without_words_has_no_terms(query):
    assert query_tokens(query) == []


def test_operators_and_quotes_become_plain_words():
    assert query_tokens("漏水\" OR NEAR(a b)* 'x' & !y") == ["漏水", "or", "near", "a", "b", "x", "y"]


def test_pasted_paragraph_is_cut_to_a_bounded_number_of_terms():
    paragraph = (
        "业主反映楼上装修噪音太大，晚上十点还在施工，影响老人和孩子休息，"
        "希望物业尽快上门处理并给出书面答复，另外卫生间天花板发霉脱落"
    )
    assert len(query_tokens(paragraph)) == MAX_QUERY_TERMS


def test_overlong_runs_are_left_out():
    assert tokens_for("a" * 41 + " ok") == "ok"
