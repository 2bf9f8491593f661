"""The Finnish and Polish catalogues: complete, faithful to every placeholder, compiled, and used by the product."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import polib
import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections
from django.utils import translation

from chatops.asgi import application
from conversations import services, widget_views
from tests import factories

TRANSLATED_LANGUAGES = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
PLURAL_FORMS = {
    "fi": "nplurals=2; plural=(n != 1);",
    # Django's own Polish catalogue uses this formula; form 3 is for fractions.
    "pl": (
        "nplurals=4; plural=(n==1 ? 0 : (n%10>=2 && n%10<=4) && (n%100<12 || n%100>14) ? 1 : n!=1 && "
        "(n%10>=0 && n%10<=1) || (n%10>=5 && n%10<=9) || (n%100>=12 && n%100<=14) ? 2 : 3);"
    ),
}
# An integer count that selects each plural form; Polish form 3 takes no integer, so it is checked in the .mo.
COUNT_FOR_FORM = {"fi": {0: 1, 1: 2}, "pl": {0: 1, 1: 2, 2: 5}}
# %(name)s with any flags, width, precision and conversion; bare %s / %d; str.format's {name}.
PLACEHOLDER = re.compile(r"%\(\w+\)[#0 +\-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]|%[sdif]|\{\w*\}")
SITE = "https://www.kahvila.example"


def catalogue_path(language: str, extension: str) -> Path:
    return Path(settings.LOCALE_PATHS[0]) / language / "LC_MESSAGES" / f"django.{extension}"


@cache
def po_file(language: str) -> polib.POFile:
    return polib.pofile(str(catalogue_path(language, "po")))


def entries(language: str) -> list[polib.POEntry]:
    return [entry for entry in po_file(language) if not entry.obsolete]


def translation_of(language: str, msgid: str) -> str:
    entry = po_file(language).find(msgid)
    assert entry is not None, f"{msgid!r} is not in the {language} catalogue"
    return entry.msgstr


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def label(entry: polib.POEntry) -> str:
    return f"{entry.msgctxt + ' | ' if entry.msgctxt else ''}{entry.msgid!r}"


def test_every_language_besides_english_has_a_catalogue():
    # given the languages the product offers
    # then each of them but the source language has a .po and a compiled .mo
    assert TRANSLATED_LANGUAGES == ["fi", "pl"]
    for language in TRANSLATED_LANGUAGES:
        assert catalogue_path(language, "po").is_file()
        assert catalogue_path(language, "mo").is_file()


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_the_catalogue_header_names_the_language_utf8_and_its_plural_forms(language):
    # given
    metadata = po_file(language).metadata

    # then
    assert metadata["Language"] == language
    assert metadata["Content-Type"] == "text/plain; charset=UTF-8"
    assert metadata["Plural-Forms"] == PLURAL_FORMS[language]
    assert not po_file(language).metadata_is_fuzzy


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_every_entry_is_translated_in_all_its_forms_and_none_is_fuzzy(language):
    # given
    nplurals = int(re.search(r"nplurals=(\d+)", PLURAL_FORMS[language]).group(1))

    # when
    problems = []
    for entry in entries(language):
        if "fuzzy" in entry.flags:
            problems.append(f"fuzzy: {label(entry)}")
        if entry.msgid_plural:
            forms = [entry.msgstr_plural.get(index, "") for index in range(nplurals)]
            if len(entry.msgstr_plural) != nplurals or not all(form.strip() for form in forms):
                problems.append(f"plural forms missing: {label(entry)}")
        elif not entry.msgstr.strip():
            problems.append(f"untranslated: {label(entry)}")

    # then
    assert entries(language), "the catalogue is empty"
    assert problems == []


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_every_translation_keeps_exactly_the_placeholders_of_the_english(language):
    # when
    problems = []
    for entry in entries(language):
        if entry.msgid_plural:
            singular, plural = placeholders(entry.msgid), placeholders(entry.msgid_plural)
            for index, form in sorted(entry.msgstr_plural.items()):
                # Form 0 is n == 1 in both languages, so it may leave the count out as the English singular does.
                allowed = (singular, plural) if index == 0 else (plural,)
                if placeholders(form) not in allowed:
                    problems.append(f"{label(entry)}[{index}]: {sorted(placeholders(form))} vs {sorted(plural)}")
        elif placeholders(entry.msgstr) != placeholders(entry.msgid):
            problems.append(f"{label(entry)}: {sorted(placeholders(entry.msgstr))}")

    # then
    assert problems == []


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_django_answers_every_entry_with_the_translation_in_the_po_file(language):
    # given every entry with the count that selects each of its plural forms
    problems = []
    with translation.override(language):
        for entry in entries(language):
            # when
            if entry.msgid_plural:
                for index, count in COUNT_FOR_FORM[language].items():
                    if entry.msgctxt:
                        answer = translation.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, count)
                    else:
                        answer = translation.ngettext(entry.msgid, entry.msgid_plural, count)
                    if answer != entry.msgstr_plural[index]:
                        problems.append(f"{label(entry)}[{index}]: {answer!r}")
            else:
                if entry.msgctxt:
                    answer = translation.pgettext(entry.msgctxt, entry.msgid)
                else:
                    answer = translation.gettext(entry.msgid)
                if answer != entry.msgstr:
                    problems.append(f"{label(entry)}: {answer!r}")

    # then the compiled catalogue is the current one (run compilemessages after editing a .po)
    assert problems == []


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_the_compiled_catalogue_holds_exactly_the_po_entries_and_all_their_forms(language):
    # given
    def contents(catalogue):
        return {
            (entry.msgctxt, entry.msgid, entry.msgid_plural): (entry.msgstr, dict(sorted(entry.msgstr_plural.items())))
            for entry in catalogue
            if not entry.obsolete and "fuzzy" not in entry.flags
        }

    # when
    compiled = polib.mofile(str(catalogue_path(language, "mo")))

    # then
    assert contents(compiled) == contents(po_file(language))


@pytest.mark.django_db
def test_the_widget_of_a_finnish_tenant_speaks_finnish(client):
    # given
    shop = factories.make_tenant(name="Kahvila Oy", language="fi", allowed_origins=SITE)

    # when
    response = client.get(f"/widget/{shop.widget_key}/config", headers={"origin": SITE})

    # then every word of the widget is the Finnish catalogue's, not the English source
    assert response.status_code == 200
    config = response.json()
    with translation.override(settings.LANGUAGE_CODE):
        english = {name: str(text) for name, text in widget_views.UI_STRINGS.items()}
        greeting = str(widget_views.DEFAULT_GREETING)
    assert config["strings"] == {name: translation_of("fi", msgid) for name, msgid in english.items()}
    assert config["strings"]["placeholder"] != english["placeholder"]
    assert config["greeting"] == translation_of("fi", greeting)
    minutes = po_file("fi").find("about %(count)d minute")
    assert config["wait_minutes"]["1"] == minutes.msgstr_plural[0] % {"count": 1}
    assert config["wait_minutes"]["5"] == minutes.msgstr_plural[1] % {"count": 5}


@pytest.mark.django_db
def test_the_admin_login_page_follows_a_polish_browser(client):
    # when
    response = client.get("/admin/login/", headers={"accept-language": "pl"})

    # then our own words and Django's admin words are both Polish
    assert response.status_code == 200
    assert response["Content-Language"] == "pl"
    page = response.content.decode()
    assert translation_of("pl", "chatops operations") in page
    assert "chatops operations" not in page
    assert "Zaloguj się" in page


@pytest.mark.django_db
def test_the_sign_in_page_follows_a_finnish_browser_and_falls_back_to_english(client):
    # when
    finnish = client.get("/accounts/login/", headers={"accept-language": "fi,en;q=0.5"})
    unknown = client.get("/accounts/login/", headers={"accept-language": "de"})

    # then
    assert translation_of("fi", "Sign in") in finnish.content.decode()
    assert finnish["Content-Language"] == "fi"
    assert unknown["Content-Language"] == "en"
    assert ">Sign in<" in unknown.content.decode()


@pytest.fixture
async def close_consumer_thread_connections():
    """Close the connection the consumer's database thread opened, so the test database can be dropped."""
    yield
    await sync_to_async(connections.close_all)()


@pytest.mark.django_db(transaction=True)
async def test_a_finnish_visitor_is_told_in_finnish_that_a_message_is_too_long(close_consumer_thread_connections):
    # given a Finnish tenant's visitor on the widget socket
    shop = await sync_to_async(factories.make_tenant)(name="Kahvila Oy", language="fi", allowed_origins=SITE)
    widget = WebsocketCommunicator(application, f"/ws/widget/{shop.widget_key}/", headers=[(b"origin", SITE.encode())])
    connected, _ = await widget.connect()
    assert connected
    await widget.send_json_to({"type": "hello", "token": "", "last_seq": 0, "url": SITE + "/"})
    await widget.receive_json_from(timeout=5)

    # when the visitor sends one character more than a message may hold
    too_long = "x" * (services.MAX_MESSAGE_LENGTH + 1)
    await widget.send_json_to({"type": "message", "body": too_long, "client_msg_id": "long"})
    frame = await widget.receive_json_from(timeout=5)
    while frame["type"] != "error":
        frame = await widget.receive_json_from(timeout=5)
    await widget.disconnect()

    # then the error is the Finnish catalogue's sentence with the limit filled in
    with translation.override(settings.LANGUAGE_CODE):
        msgid = str(services.ERROR_MESSAGE_TOO_LONG)
    assert frame["code"] == "too_long"
    assert frame["message"] == translation_of("fi", msgid) % {"limit": services.MAX_MESSAGE_LENGTH}
    assert frame["message"] != msgid % {"limit": services.MAX_MESSAGE_LENGTH}
