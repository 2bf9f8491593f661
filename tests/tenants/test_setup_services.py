"""Setting a client company up through the services, each step as of its moment: the checklist follows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError

from accounts import roles
from tenants import onboarding, proactive, services
from tenants.models import ChangeNotice, ClientUser, OnboardingItem, ServiceException, ServiceHours, Tenant
from tests import factories

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.frozen_time(NOW)]
SIGNED = dt.datetime(2026, 10, 5, 9, 0, tzinfo=dt.UTC)


def on_day(day: int) -> dt.datetime:
    return SIGNED + dt.timedelta(days=day, hours=1)


def done_at(tenant: Tenant) -> dict[str, dt.datetime | None]:
    return dict(OnboardingItem.objects.for_tenant(tenant).values_list("key", "done_at"))


@pytest.fixture
def signed(db, django_capture_on_commit_callbacks) -> Tenant:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        tenant = services.create_tenant(
            now=SIGNED, name="Verkkokauppa Oy", slug="verkkokauppa", contract_signed_on=SIGNED.date()
        )
    assert callbacks == []
    return tenant


def test_a_tenant_created_in_the_past_has_its_checklist_at_once_and_that_moment(signed):
    # given / when the tenant was created on its contract day (fixture), queueing nothing

    # then its checklist is there, due from the contract, nothing done, and it was created (and tallied) then
    steps = done_at(signed)
    assert list(steps) == [step.key for step in onboarding.STEPS]
    assert not any(steps.values())
    signed.refresh_from_db()
    assert signed.created_at == signed.visitors_tallied_since == SIGNED
    assert signed.visitors_tallied_in == signed.time_zone


def test_each_setup_step_completes_its_checklist_step_at_its_own_moment(signed):
    # when the knowledge base, hours, canned responses and report recipients come on different days
    services.add_knowledge_article(tenant=signed, title="Delivery", body="2–3 working days", now=on_day(9))
    services.set_service_hours(tenant=signed, weekly=[(0, dt.time(9), dt.time(17))], now=on_day(10))
    services.add_canned_response(tenant=signed, shortcut="hello", text="Hei!", now=on_day(12))
    services.add_report_recipient(tenant=signed, email="boss@verkkokauppa.example", now=on_day(15))

    # then each step was done on its day
    steps = done_at(signed)
    assert (steps["knowledge_base"], steps["service_hours"], steps["canned_responses"]) == (
        on_day(9),
        on_day(10),
        on_day(12),
    )
    assert steps["report_recipients"] == on_day(15)


def test_setting_the_hours_again_replaces_them(signed):
    services.set_service_hours(tenant=signed, weekly=[(0, dt.time(9), dt.time(17))], now=on_day(10))

    services.set_service_hours(
        tenant=signed, weekly=[(1, dt.time(8), dt.time(12)), (4, dt.time(18), dt.time(2))], now=on_day(11)
    )

    assert list(ServiceHours.objects.for_tenant(signed).values_list("weekday", "opens", "closes")) == [
        (1, dt.time(8), dt.time(12)),
        (4, dt.time(18), dt.time(2)),
    ]
    # (the step stays done from the first time)
    assert done_at(signed)["service_hours"] == on_day(10)


def test_a_bad_row_is_refused_and_nothing_of_it_is_stored(signed):
    with pytest.raises(ValidationError):
        services.add_report_recipient(
            tenant=signed, email="nobody@verkkokauppa.example", weekly=False, monthly=False, escalations=False
        )
    with pytest.raises(ValidationError):
        services.add_service_exception(tenant=signed, date=dt.date(2026, 12, 24), closed=False)

    assert not signed.reportrecipient_set.exists()
    assert not ServiceException.objects.for_tenant(signed).exists()


def test_a_holiday_is_added_to_the_hours(signed):
    services.add_service_exception(tenant=signed, date=dt.date(2026, 12, 6), note="Itsenäisyyspäivä")

    assert ServiceException.objects.for_tenant(signed).get().note == "Itsenäisyyspäivä"


def test_a_change_notice_posted_in_the_past_keeps_its_moment_and_author(signed):
    manager = factories.make_user(role=roles.OPERATIONS_MANAGER)

    notice = services.post_change_notice(tenant=signed, title="New prices", body="…", by=manager, now=on_day(40))

    assert ChangeNotice.objects.get(pk=notice.pk).created_at == on_day(40)
    assert notice.created_by == manager


def test_a_client_login_with_a_known_password_needs_no_invitation(
    signed, client, mailoutbox, django_capture_on_commit_callbacks
):
    # when a client login is added with a password already set, and another one without
    with django_capture_on_commit_callbacks(execute=True):
        known = services.add_client_user(
            tenant=signed,
            email="johanna@verkkokauppa.example",
            full_name="Johanna Lehtonen",
            username="client-verkkokauppa",
            password_hash=make_password("demo-client"),
        )
        invited = services.invite_client_user(tenant=signed, email="kari@verkkokauppa.example", full_name="Kari")

    # then the first logs in at once, only the second was e-mailed a link, and both see only this tenant
    assert client.login(username="client-verkkokauppa", password="demo-client")
    assert [message.to for message in mailoutbox] == [["kari@verkkokauppa.example"]]
    assert {row.user for row in ClientUser.objects.for_tenant(signed)} == {known.user, invited.user}
    assert roles.has_role(known.user, roles.CLIENT_USER)


def test_an_invitation_rule_is_added_and_a_pattern_that_never_matches_is_refused(signed):
    rule = proactive.add_invitation_rule(
        tenant=signed, name="Cart, 30 s", url_pattern=" */cart* ", message="Questions?", seconds_on_page=30
    )

    with pytest.raises(ValidationError):
        proactive.add_invitation_rule(tenant=signed, name="Bad", url_pattern="*/my cart*", message="Hi")

    assert (rule.url_pattern, rule.is_active) == ("*/cart*", True)
    assert signed.proactiverule_set.count() == 1
