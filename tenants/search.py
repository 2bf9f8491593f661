"""Knowledge-base search for the console: a visitor's question in, the tenant's best articles out.

A question typed in natural language ("How much does the monthly card cost?") must find the
article about prices, so the search matches *any* of the question's meaningful words, not all
of them, and ranks articles by how many it matches and where: the title counts more than the
keywords, the keywords more than the text.

On PostgreSQL this is its full-text search with the tenant language's configuration (stemming
for English and Finnish). PostgreSQL has no Polish stemmer, so Polish uses the 'simple'
configuration and a light suffix stripping of the question's words, matched as prefixes
("karnetu" finds "karnet", "karnety"). Prefix matches count less than whole-word ones. On SQLite
(the embedded default) a word-overlap score in Python stands in, with the same light stemming.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db import connection
from django.db.models import F, Value

from tenants.models import KnowledgeArticle, Tenant

# PostgreSQL text-search configuration per tenant language; 'simple' where PostgreSQL has no stemmer.
SEARCH_CONFIGS = {"en": "english", "fi": "finnish", "pl": "simple"}
DEFAULT_CONFIG = "simple"
MAX_QUERY_LENGTH = 500
MAX_QUERY_WORDS = 12
MIN_WORD_LENGTH = 2
# Words at least this long are also matched as the start of longer words (inflections, compounds).
PREFIX_MIN_LENGTH = 4
# A prefix match ranks below a whole-word match of the same word.
PREFIX_SHARE = 0.4
# ts_rank weights for D, C, B, A: text (C) < keywords (B) < title (A).
RANK_WEIGHTS = [0.05, 0.2, 0.5, 1.0]
SNIPPET_WORDS = 30
# Marks around a hit in a snippet; private-use characters, which article text does not contain.
HIT_START, HIT_END = "\ue000", "\ue001"

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


# Question words, greetings and fillers that say nothing about which article is meant.
STOP_WORDS = {
    "en": """
        a about am an and any anything are as at be been but by can could did do does for from get got have
        hello hey hi how i if in into is it its just know let like me much my need no not of on or our please
        should so some tell than thank thanks that the their them then there these they this to us want was we
        were what when where which who why will with would you your
    """,
    "fi": """
        ai eikö ei en et että hei heippa haluaisin haluan ja jo joka jos jotain kai kanssa kertoa kiitos
        kuinka kun kyllä me meillä mikä mikäs millainen milloin minkä minulla minun minä mistä missä mitkä
        mitä miten moi moikka mua mulla mun mutta myös mä ne niin noin nyt oisko olen olette oli olisi olla
        on onko ovat ovatko paljon pitää pitäisi saa saada saako saanko se sekä siitä sinä te teidän teillä
        teille teiltä tietää tuo tämä tästä vai vain vielä voi voiko voinko voisi voisitteko voitteko
    """,
    "pl": """
        a albo ale bardzo by być bym chce chcę chciałabym chciałbym co cześć czego czy czym dla do dobry
        dziękuję dzień gdzie i ich ile ja jak jaka jaki jakie jakich jest jestem jeszcze już kiedy która
        które który lub ma macie mam mi mnie moge mogę moja moje można może mój na nie o od oraz pan pani
        państwo po proszę przez przy się są ta tak także te ten to tu tylko też u w we witam wy z za ze że
    """,
}
STOP_WORDS = {language: frozenset(words.split()) for language, words in STOP_WORDS.items()}

# Endings stripped before prefix matching where no stemmer does it.
LIGHT_SUFFIXES = {
    "pl": "iem iami ach ami om em ie ia iu ią ię y a u i e ę ą o ej ego emu ych ymi ich imi owi owie ów",
    "fi": "ssa ssä sta stä lla llä lta ltä lle ksi tta ttä ien jen iin ihin na nä ni si ko kö n t a ä ja jä",
    "en": "ing ies es ed ly s",
}
# Longest first, so "ach" is stripped rather than its last letter.
LIGHT_SUFFIXES = {
    language: sorted(suffixes.split(), key=len, reverse=True) for language, suffixes in LIGHT_SUFFIXES.items()
}
MIN_STEM_LENGTH = 3


@dataclass(frozen=True)
class Term:
    """One meaningful word of a question: matched whole, and (if long enough) as the start of longer words."""

    word: str
    prefix: str | None


@dataclass(frozen=True)
class ArticleHit:
    """A found article: its text to insert, and a snippet as (text, is_hit) pieces to show safely."""

    id: int
    title: str
    body: str
    rank: float
    snippet: list[tuple[str, bool]]

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "text": self.body,
            "rank": round(self.rank, 4),
            "snippet": [{"text": text, "hit": hit} for text, hit in self.snippet],
        }


def search_config(language: str) -> str:
    """Return the PostgreSQL text-search configuration for a tenant language."""
    return SEARCH_CONFIGS.get(language, DEFAULT_CONFIG)


def light_stem(word: str, language: str) -> str:
    """Strip one common inflection ending, keeping at least a few letters."""
    for suffix in LIGHT_SUFFIXES.get(language, ()):
        if word.endswith(suffix) and len(word) - len(suffix) >= MIN_STEM_LENGTH:
            return word[: -len(suffix)]
    return word


def question_terms(query: str, language: str, *, stemmed: bool = False) -> list[Term]:
    """Return the question's meaningful words, in order, each once, at most MAX_QUERY_WORDS.

    stemmed: the database stems each word before matching (PostgreSQL with a language configuration),
    so the prefix is the word itself; otherwise it is the word with a common ending stripped.
    """
    stop_words = STOP_WORDS.get(language, frozenset())
    terms: list[Term] = []
    seen: set[str] = set()
    for word in _WORD.findall(query[:MAX_QUERY_LENGTH].lower()):
        if len(word) < MIN_WORD_LENGTH or word in stop_words or word in seen:
            continue
        seen.add(word)
        terms.append(Term(word=word, prefix=_prefix_of(word, language, stemmed=stemmed)))
        if len(terms) == MAX_QUERY_WORDS:
            break
    return terms


def _prefix_of(word: str, language: str, *, stemmed: bool) -> str | None:
    if len(word) < PREFIX_MIN_LENGTH or word.isdigit():
        return None
    if stemmed:
        return word
    stem = light_stem(word, language)
    # Polish alternates the last consonant of a stem (płatność / płatności): one letter less covers both.
    if language == "pl" and len(stem) >= 6:
        stem = stem[:-1]
    return stem


def search_articles(*, tenant: Tenant, query: str, limit: int = 5) -> list[ArticleHit]:
    """Return the tenant's published articles that best answer the question, best first, with snippets."""
    config = search_config(tenant.language)
    on_postgres = connection.vendor == "postgresql"
    terms = question_terms(query or "", tenant.language, stemmed=on_postgres and config != DEFAULT_CONFIG)
    if not terms or limit < 1:
        return []
    articles = KnowledgeArticle.objects.for_tenant(tenant).filter(is_published=True)
    if on_postgres:
        return _search_postgres(articles, terms, config, limit)
    return _search_by_word_overlap(articles, terms, limit)


# --- PostgreSQL ---------------------------------------------------------------------------------


def _tsquery(terms: list[Term], *, loose: bool) -> str:
    """Return a to_tsquery() text matching any term; loose adds the prefix forms. Terms hold letters only."""
    parts = []
    for term in terms:
        if loose and term.prefix:
            parts.append(f"{term.prefix}:*")
        else:
            parts.append(term.word)
    return " | ".join(parts)


def _search_postgres(articles, terms: list[Term], config: str, limit: int) -> list[ArticleHit]:
    # search_document is kept in the tenant language's configuration by a database trigger.
    exact = SearchQuery(_tsquery(terms, loose=False), search_type="raw", config=config)
    loose = SearchQuery(_tsquery(terms, loose=True), search_type="raw", config=config)
    ranked = list(
        articles.filter(search_document=loose)
        .annotate(
            rank=SearchRank(F("search_document"), exact, weights=RANK_WEIGHTS)
            + Value(PREFIX_SHARE) * SearchRank(F("search_document"), loose, weights=RANK_WEIGHTS)
        )
        .order_by("-rank", "title", "pk")
        .values_list("pk", "rank")[:limit]
    )
    if not ranked:
        return []
    # Headlines are costly: make them only for the few articles shown.
    shown = {
        row["pk"]: row
        for row in articles.filter(pk__in=[pk for pk, _rank in ranked])
        .order_by()
        .annotate(
            snippet=SearchHeadline(
                "body",
                loose,
                config=config,
                start_sel=HIT_START,
                stop_sel=HIT_END,
                max_words=SNIPPET_WORDS,
                min_words=SNIPPET_WORDS // 2,
                max_fragments=2,
                fragment_delimiter=" … ",
            )
        )
        .values("pk", "title", "body", "snippet")
    }
    return [
        ArticleHit(
            id=pk,
            title=shown[pk]["title"],
            body=shown[pk]["body"],
            rank=rank,
            snippet=_pieces(shown[pk]["snippet"]),
        )
        for pk, rank in ranked
    ]


def _pieces(marked: str) -> list[tuple[str, bool]]:
    """Split a headline with hit marks into (text, is_hit) pieces."""
    pieces: list[tuple[str, bool]] = []
    for chunk in marked.split(HIT_START):
        hit, sep, rest = chunk.partition(HIT_END)
        if sep:
            pieces.append((hit, True))
            chunk = rest
        if chunk:
            pieces.append((chunk.replace(HIT_END, ""), False))
    return [(text, hit) for text, hit in pieces if text]


# --- SQLite and other databases: word overlap -----------------------------------------------------

FIELD_WEIGHTS = (("title", 1.0), ("keywords", 0.5), ("body", 0.2))


def _matches(term: Term, words: set[str]) -> float:
    """Return 1 for the word itself, PREFIX_SHARE for a word it starts, 0 otherwise."""
    if term.word in words:
        return 1.0
    if term.prefix and any(word.startswith(term.prefix) for word in words):
        return PREFIX_SHARE
    return 0.0


def _search_by_word_overlap(articles, terms: list[Term], limit: int) -> list[ArticleHit]:
    scored = []
    for article in articles.only("pk", "title", "keywords", "body"):
        fields = {name: set(_WORD.findall(getattr(article, name).lower())) for name, _weight in FIELD_WEIGHTS}
        score = sum(weight * _matches(term, fields[name]) for term in terms for name, weight in FIELD_WEIGHTS)
        if score > 0:
            scored.append((score, article))
    scored.sort(key=lambda pair: (-pair[0], pair[1].title, pair[1].pk))
    return [
        ArticleHit(
            id=article.pk,
            title=article.title,
            body=article.body,
            rank=score,
            snippet=_overlap_snippet(article.body, terms),
        )
        for score, article in scored[:limit]
    ]


def _overlap_snippet(body: str, terms: list[Term]) -> list[tuple[str, bool]]:
    """Return about SNIPPET_WORDS words of the text around its first hit, hits marked."""
    tokens = re.split(r"(\s+)", body.strip())
    words = tokens[::2]

    def is_hit(word: str) -> bool:
        found = _WORD.findall(word.lower())
        return any(_matches(term, set(found)) for term in terms)

    first = next((index for index, word in enumerate(words) if is_hit(word)), 0)
    start = max(0, first - SNIPPET_WORDS // 3)
    window = words[start : start + SNIPPET_WORDS]
    pieces: list[tuple[str, bool]] = []
    if start > 0:
        pieces.append(("… ", False))
    for index, word in enumerate(window):
        separator = " " if index < len(window) - 1 else ""
        if is_hit(word):
            pieces.append((word, True))
            pieces.append((separator, False))
        elif pieces and not pieces[-1][1]:
            pieces[-1] = (pieces[-1][0] + word + separator, False)
        else:
            pieces.append((word + separator, False))
    if start + SNIPPET_WORDS < len(words):
        pieces.append((" …", False))
    return [(text, hit) for text, hit in pieces if text]
