"""Knowledge-base search: a visitor's typical question finds the right article first, in each language.

The tests marked `services` are about PostgreSQL's full-text search (production); the others hold on
the SQLite fallback too.
"""

from __future__ import annotations

import pytest
from django.db import connection

from tenants import search
from tenants.models import KnowledgeArticle
from tests import factories

pytestmark = pytest.mark.django_db

# (title, keywords, text) — a small knowledge base per language, with articles that share words.
ENGLISH_ARTICLES = [
    (
        "Delivery times and costs",
        "shipping, delivery, postage, courier",
        "We ship orders within two working days. Delivery anywhere in Finland costs 4.90 € and is free for "
        "orders over 50 €. Courier delivery to your door costs 9.90 €.",
    ),
    (
        "Returns and refunds",
        "return, refund, money back, exchange",
        "You can return any unused item within 30 days of delivery. Fill in the return form in your order "
        "e-mail; the refund reaches your account within five working days of us receiving the item.",
    ),
    (
        "Showroom opening hours",
        "open, hours, showroom, visit, address",
        "Our showroom at Mannerheimintie 12 is open Monday to Friday 10–18 and Saturday 10–16. "
        "It is closed on Sundays and public holidays.",
    ),
    (
        "Payment methods",
        "pay, card, invoice, mobilepay, klarna",
        "We accept Visa, Mastercard, MobilePay and invoice (14 days, no fee). Instalments through Klarna "
        "are available for orders over 200 €.",
    ),
    (
        "Gift cards",
        "gift card, voucher, present",
        "Gift cards are sold in the shop and online from 20 € up. A gift card is valid for two years and "
        "can be used for several purchases.",
    ),
    (
        "Caring for wooden furniture",
        "oil, clean, wood, oak, care",
        "Wipe wooden surfaces with a damp cloth and dry them at once. Treat oiled oak and birch with "
        "furniture oil once or twice a year. Avoid strong detergents.",
    ),
    (
        "Warranty",
        "guarantee, broken, defect, repair",
        "All our furniture has a two-year warranty against manufacturing defects. If something breaks in "
        "normal use, send us a photo and we repair or replace it.",
    ),
    (
        "Tracking your order",
        "track, parcel, status, package",
        "When your order leaves our warehouse you get an e-mail with a tracking link, which shows where "
        "the parcel is. Orders usually arrive in two to four working days.",
    ),
]
ENGLISH_QUESTIONS = [
    ("How much does shipping cost to Helsinki?", "Delivery times and costs"),
    ("Is delivery free?", "Delivery times and costs"),
    ("Can I get my money back if the sofa doesn't fit?", "Returns and refunds"),
    ("How long does a refund take?", "Returns and refunds"),
    ("When are you open on Saturday?", "Showroom opening hours"),
    ("Do you take MobilePay?", "Payment methods"),
    ("I'd like to buy a voucher as a present", "Gift cards"),
    ("How should I clean my oak table?", "Caring for wooden furniture"),
    ("My chair broke after a month, what now?", "Warranty"),
    ("Where is my parcel? I ordered last week", "Tracking your order"),
]

FINNISH_ARTICLES = [
    (
        "Aukioloajat",
        "auki, avoinna, aukiolo, kellonaika",
        "Kahvila on avoinna arkisin klo 7–18 ja viikonloppuisin klo 9–16. Juhlapyhinä olemme suljettuina.",
    ),
    (
        "Gluteenittomat ja vegaaniset tuotteet",
        "gluteeniton, keliakia, vegaani, allergia, maidoton",
        "Valikoimassamme on joka päivä gluteenittomia leivonnaisia ja vegaanisia voileipiä. Kysy "
        "henkilökunnalta allergeeneista, niin kerromme tarkemmin.",
    ),
    (
        "Kakkutilaukset",
        "kakku, täytekakku, tilaus, juhlat, synttärit",
        "Täytekakut tilataan vähintään kolme päivää etukäteen. Kakun voi noutaa kahvilasta tai tilata "
        "kotiin kuljetettuna. Hinnat alkaen 45 euroa.",
    ),
    (
        "Pysäköinti",
        "parkki, auto, parkkipaikka, pysäköinti",
        "Asiakaspysäköinti on kahvilan takapihalla, jossa saa pysäköidä kaksi tuntia maksutta.",
    ),
    (
        "Lahjakortit",
        "lahja, lahjakortti",
        "Lahjakortteja saa kassalta ja verkkokaupasta 10–100 euron arvoisina. Lahjakortti on voimassa vuoden.",
    ),
    (
        "Maksutavat",
        "maksu, maksaminen, kortti, käteinen, mobilepay, lounasseteli",
        "Käyvät maksuvälineet: pankki- ja luottokortit, MobilePay, käteinen sekä lounassetelit (Edenred ja ePassi).",
    ),
    (
        "Tilavuokraus ja yksityistilaisuudet",
        "vuokraus, kabinetti, kokous, yksityistilaisuus, varaus",
        "Kabinetin voi varata yksityistilaisuuksiin ja kokouksiin enintään 20 hengelle. Varaukset "
        "sähköpostilla tai puhelimitse.",
    ),
    (
        "Lounas",
        "lounas, ruokalista, keitto, buffet",
        "Lounasta tarjoillaan arkisin klo 11–14. Viikon ruokalista julkaistaan maanantaisin verkkosivuilla.",
    ),
]
FINNISH_QUESTIONS = [
    ("Milloin olette auki lauantaina?", "Aukioloajat"),
    ("Onko teillä gluteenittomia leivonnaisia?", "Gluteenittomat ja vegaaniset tuotteet"),
    ("Voinko tilata täytekakun synttäreille?", "Kakkutilaukset"),
    ("Missä voi pysäköidä autolla?", "Pysäköinti"),
    ("Myyttekö lahjakortteja?", "Lahjakortit"),
    ("Käykö MobilePay maksuksi?", "Maksutavat"),
    ("Voiko kabinetin varata kokoukseen?", "Tilavuokraus ja yksityistilaisuudet"),
    ("Mitä lounaalla on tänään?", "Lounas"),
]

POLISH_ARTICLES = [
    (
        "Cennik karnetów",
        "cena, cennik, karnet, opłata, miesięczny",
        "Karnet miesięczny kosztuje 149 zł, karnet open 199 zł. Studenci i seniorzy płacą 20% mniej.",
    ),
    (
        "Godziny otwarcia",
        "otwarte, czynne, godziny",
        "Siłownia jest czynna od poniedziałku do piątku w godzinach 6–23, w soboty i niedziele 8–20.",
    ),
    (
        "Zajęcia grupowe",
        "joga, pilates, zumba, grafik, zajęcia",
        "Grafik zajęć grupowych znajdziesz w aplikacji. Na zajęcia trzeba się zapisać najpóźniej "
        "godzinę przed startem.",
    ),
    (
        "Trening personalny",
        "trener, trening, personalny",
        "Nasi trenerzy personalni układają plan treningowy i dietę. Pierwsza konsultacja jest bezpłatna.",
    ),
    (
        "Zawieszenie karnetu",
        "zawieszenie, urlop, choroba, przerwa",
        "Karnet można zawiesić na maksymalnie 30 dni w roku, np. z powodu choroby lub urlopu.",
    ),
    (
        "Parking",
        "parking, samochód, rower",
        "Dla klubowiczów jest bezpłatny parking na 40 samochodów oraz stojaki na rowery.",
    ),
    (
        "Płatności",
        "płatność, karta, blik, przelew",
        "Akceptujemy płatności kartą, BLIK-iem i przelewem. Karnet można też opłacić w recepcji.",
    ),
    (
        "Rezygnacja i wypowiedzenie umowy",
        "rezygnacja, wypowiedzenie, umowa, anulowanie",
        "Umowę można wypowiedzieć z miesięcznym okresem wypowiedzenia, pisemnie lub w aplikacji.",
    ),
]
POLISH_QUESTIONS = [
    ("Ile kosztuje karnet miesięczny?", "Cennik karnetów"),
    ("Do której godziny jesteście otwarci w sobotę?", "Godziny otwarcia"),
    ("Czy macie zajęcia z jogi?", "Zajęcia grupowe"),
    ("Chciałbym umówić się z trenerem personalnym", "Trening personalny"),
    ("Czy mogę zawiesić karnet na czas urlopu?", "Zawieszenie karnetu"),
    ("Gdzie mogę zostawić samochód?", "Parking"),
    ("Czy można płacić BLIKiem?", "Płatności"),
    ("Chcę wypowiedzieć umowę", "Rezygnacja i wypowiedzenie umowy"),
]

CORPORA = {
    "en": (ENGLISH_ARTICLES, ENGLISH_QUESTIONS),
    "fi": (FINNISH_ARTICLES, FINNISH_QUESTIONS),
    "pl": (POLISH_ARTICLES, POLISH_QUESTIONS),
}


def knowledge_base(language: str, articles):
    tenant = factories.make_tenant(language=language)
    for title, keywords, body in articles:
        KnowledgeArticle.objects.create(tenant=tenant, title=title, keywords=keywords, body=body)
    return tenant


def first_titles(tenant, questions) -> list[tuple[str, str | None]]:
    results = []
    for question, _expected in questions:
        hits = search.search_articles(tenant=tenant, query=question)
        results.append((question, hits[0].title if hits else None))
    return results


@pytest.mark.services
@pytest.mark.parametrize("language", ["en", "fi", "pl"])
def test_typical_questions_find_the_right_article_first(language):
    # given a tenant's knowledge base in its language
    articles, questions = CORPORA[language]
    tenant = knowledge_base(language, articles)

    # when each typical question is searched
    found = first_titles(tenant, questions)

    # then the article that answers it comes first
    assert found == [(question, expected) for question, expected in questions]


@pytest.mark.parametrize("language", ["en", "fi", "pl"])
def test_the_word_overlap_fallback_still_finds_most_answers(language, monkeypatch):
    # given the same knowledge base, searched as on SQLite (the embedded default)
    articles, questions = CORPORA[language]
    tenant = knowledge_base(language, articles)
    monkeypatch.setattr(connection, "vendor", "sqlite")

    # when
    found = first_titles(tenant, questions)

    # then at least three in four questions get the right article first
    right = sum(1 for (question, title), (_q, expected) in zip(found, questions, strict=True) if title == expected)
    assert right >= len(questions) * 3 // 4, found


def test_only_the_tenants_own_published_articles_are_found(tenant, other_tenant):
    # given the same article text in two tenants, and a draft in the first
    for owner in (tenant, other_tenant):
        KnowledgeArticle.objects.create(tenant=owner, title="Lounas", keywords="lounas", body="Lounas klo 11–14.")
    KnowledgeArticle.objects.create(tenant=tenant, title="Lounas ensi viikolla", body="Luonnos", is_published=False)

    # when
    hits = search.search_articles(tenant=tenant, query="lounas")

    # then
    assert [hit.id for hit in hits] == list(
        KnowledgeArticle.objects.filter(tenant=tenant, is_published=True).values_list("pk", flat=True)
    )


def test_a_hit_carries_its_whole_text_and_a_snippet_with_the_matching_words_marked():
    # given
    tenant = knowledge_base("en", ENGLISH_ARTICLES)

    # when
    hit = search.search_articles(tenant=tenant, query="Is delivery free?")[0]

    # then
    assert hit.body == ENGLISH_ARTICLES[0][2]
    marked = [text.lower() for text, is_hit in hit.snippet if is_hit]
    assert "delivery" in marked and "free" in marked
    assert "".join(text for text, _hit in hit.snippet) in hit.body
    assert hit.as_json()["snippet"][0] == {"text": hit.snippet[0][0], "hit": hit.snippet[0][1]}


@pytest.mark.parametrize("query", ["", "   ", "how are you?", "?!", "a" * 5000])
def test_a_question_without_meaningful_words_finds_nothing_and_does_not_fail(query):
    # given
    tenant = knowledge_base("en", ENGLISH_ARTICLES)

    # when / then
    assert search.search_articles(tenant=tenant, query=query) == []


def test_query_syntax_in_a_question_is_taken_as_plain_words():
    # given
    tenant = knowledge_base("en", ENGLISH_ARTICLES)

    # when
    hits = search.search_articles(tenant=tenant, query="refund & !(money) | 'back':* <-> \\")

    # then
    assert hits[0].title == "Returns and refunds"


def test_at_most_limit_hits_are_returned():
    # given
    tenant = knowledge_base("en", ENGLISH_ARTICLES)

    # when
    hits = search.search_articles(tenant=tenant, query="order delivery refund card", limit=2)

    # then
    assert len(hits) == 2


def test_an_edited_article_is_found_by_its_new_words_at_once():
    # given
    tenant = knowledge_base("en", ENGLISH_ARTICLES)
    article = KnowledgeArticle.objects.get(tenant=tenant, title="Gift cards")

    # when
    article.body = "Gift cards can now also be bought as a printable PDF."
    article.save()

    # then
    assert [hit.title for hit in search.search_articles(tenant=tenant, query="printable pdf")] == ["Gift cards"]


@pytest.mark.services
def test_a_tenant_changing_language_gets_its_articles_stemmed_in_the_new_language():
    # given a Finnish tenant's English article, stored with Finnish stemming (which keeps "delivered" whole)
    tenant = knowledge_base("fi", [("Delivery", "shipping", "We delivered parcels every weekday.")])
    assert "'delivered'" in stored_document(tenant)

    # when the tenant turns out to be English
    tenant.language = "en"
    tenant.save()

    # then the article is stored with English stemming, and English inflections find it
    assert "'deliv'" in stored_document(tenant) and "'delivered'" not in stored_document(tenant)
    assert [hit.title for hit in search.search_articles(tenant=tenant, query="deliveries")] == ["Delivery"]


def stored_document(tenant) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT search_document::text FROM tenants_knowledgearticle WHERE tenant_id = %s", [tenant.pk])
        return cursor.fetchone()[0]


@pytest.mark.services
def test_the_databases_search_configuration_per_language_matches_the_queries(settings):
    # given every language a tenant can have
    languages = [code for code, _name in settings.LANGUAGES] + ["xx"]

    # when the database's mapping (used by the trigger that stores documents) is asked
    with connection.cursor() as cursor:
        stored = {}
        for language in languages:
            cursor.execute("SELECT tenants_search_config(%s)::text", [language])
            stored[language] = cursor.fetchone()[0]

    # then it is the one the queries use
    assert stored == {language: search.search_config(language) for language in languages}
