"""Search tokens for Chinese (and mixed) text, shared by every full-text index.

The same tokens go into SQLite FTS5 and PostgreSQL full-text search, so both databases find the
same rows. Text is normalised (NFKC, lower case: full-width "１５０２" becomes "1502"), then cut
into runs of Chinese characters and runs of other letters and digits.

Indexed tokens (`tokens_for`) for a run of Chinese characters are its jieba search-mode words of two
or more characters plus every pair of neighbouring characters (bigrams): "卫生间漏水严重" gives
卫生 卫生间 生间 间漏 漏水 水严 严重. Bigrams make a two-character word findable even where jieba
cuts the text differently. A lone character between digits ("3栋2单元1502") is kept as it is.
Other runs (Latin words, numbers) are kept whole.

Query terms (`query_tokens`) are chosen so that every term of a text that contains the query
is in the index, whatever jieba did to the text: each word of the query with two or more
characters becomes its bigrams, and neighbouring single characters are joined and cut into
bigrams. "漏水" therefore finds 卫生间漏水严重 and 楼上漏水了 but not 水漏了 (another word).
All terms must match (AND). A query of single Chinese characters only ("漏") gives prefix terms
("漏*": words starting with 漏); otherwise single characters are left out, being too common to
narrow a search and costly as prefixes.
"""

import logging
import re
import threading
import unicodedata
import warnings

# CJK Unified Ideographs, Extension A, Compatibility Ideographs, Extensions B–F.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef"
_RUNS = re.compile(rf"(?P<cjk>[{_CJK}]+)|(?P<word>[^\W_{_CJK}]+)")
# Longer runs are pasted codes or garbage; an index is no place for them.
MAX_TOKEN_LENGTH = 40
# A pasted paragraph is not a search; the first terms narrow it enough.
MAX_QUERY_TERMS = 24
PREFIX = "*"

_jieba = None
_jieba_lock = threading.Lock()


def _tokenizer():
    """jieba's tokenizer, loaded on first use (about a second) and without its log chatter."""
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                # jieba's sources carry invalid escape sequences that warn when first compiled.
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", (DeprecationWarning, SyntaxWarning))
                    import jieba

                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                _jieba = tokenizer
    return _jieba


def _runs(text: str):
    """(is_chinese, run) for each run of Chinese characters or of other letters and digits."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    for match in _RUNS.finditer(text):
        if match.group("cjk"):
            yield True, match.group("cjk")
        else:
            yield False, match.group("word")


def _bigrams(run: str) -> list[str]:
    return [run[i : i + 2] for i in range(len(run) - 1)]


def _unique(tokens) -> list[str]:
    return list(dict.fromkeys(t for t in tokens if t and len(t) <= MAX_TOKEN_LENGTH))


def token_list(text: str) -> list[str]:
    """The index tokens of `text`, in order of first appearance, each once."""
    tokens: list[str] = []
    for chinese, run in _runs(text):
        if not chinese:
            tokens.append(run)
        elif len(run) == 1:
            tokens.append(run)
        else:
            tokens.extend(word for word in _tokenizer().cut_for_search(run) if len(word) > 1)
            tokens.extend(_bigrams(run))
    return _unique(tokens)


def tokens_for(*texts: str) -> str:
    """The search column for some texts: their tokens separated by spaces."""
    tokens: list[str] = []
    for text in texts:
        tokens.extend(token_list(text))
    return " ".join(_unique(tokens))


def query_tokens(query: str) -> list[str]:
    """The terms a query must all match. A term ending in `PREFIX` ("漏*") matches tokens starting with it.

    Empty for a query without letters, digits or Chinese characters.
    """
    terms: list[str] = []
    lone: list[str] = []
    for chinese, run in _runs(query):
        if not chinese:
            terms.append(run)
        elif len(run) == 1:
            lone.append(run + PREFIX)
        else:
            singles = ""
            for word in [*_tokenizer().cut(run), ""]:
                if len(word) == 1:
                    singles += word
                    continue
                # Neighbouring single characters ("漏了" in 水管漏了) are read as the text says them.
                terms.extend(_bigrams(singles))
                singles = ""
                terms.extend(_bigrams(word))
    # Single characters are common and, as prefixes, costly: they count only when nothing else was typed.
    return _unique(terms or lone)[:MAX_QUERY_TERMS]
