"""What turns a business event of a lower app into webhook deliveries, inside that app's transaction."""

from __future__ import annotations

from conversations import rekeying, signals
from conversations.models import Conversation, Handoff, Lead, Message
from integrations import payloads, services
from integrations.models import EventType, WebhookDelivery
from reporting import signals as reporting_signals
from reporting.models import ReportDelivery
from reporting.reports import Report


def on_lead_created(sender, *, lead: Lead, **kwargs) -> None:
    services.record_event(
        tenant_id=lead.tenant_id,
        event_type=EventType.LEAD_CREATED,
        data=lambda: payloads.lead_data(lead),
        conversation_id=lead.conversation_id,
    )


def on_handoff_created(sender, *, handoff: Handoff, **kwargs) -> None:
    services.record_event(
        tenant_id=handoff.tenant_id,
        event_type=EventType.HANDOFF_CREATED,
        data=lambda: payloads.handoff_data(handoff),
        conversation_id=handoff.conversation_id,
    )


def on_conversation_closed(sender, *, conversation: Conversation, **kwargs) -> None:
    services.record_event(
        tenant_id=conversation.tenant_id,
        event_type=EventType.CONVERSATION_CLOSED,
        data=lambda: payloads.closed_data(conversation),
        conversation_id=conversation.pk,
    )


def on_rating_given(sender, *, conversation: Conversation, **kwargs) -> None:
    services.record_event(
        tenant_id=conversation.tenant_id,
        event_type=EventType.RATING_GIVEN,
        data=lambda: payloads.rating_data(conversation),
        conversation_id=conversation.pk,
    )


def on_offline_message_left(sender, *, message: Message, **kwargs) -> None:
    services.record_event(
        tenant_id=message.tenant_id,
        event_type=EventType.OFFLINE_MESSAGE_LEFT,
        data=lambda: payloads.offline_message_data(message),
        conversation_id=message.conversation_id,
    )


def on_report_ready(sender, *, delivery: ReportDelivery, report: Report, **kwargs) -> None:
    services.record_event(
        tenant_id=delivery.tenant_id,
        event_type=EventType.REPORT_READY,
        data=lambda: payloads.report_data(delivery, period=report.period, figures=report.figures),
    )


def on_visitors_erased(sender, *, conversation_ids: list[int], **kwargs) -> None:
    services.forget_conversations(conversation_ids=conversation_ids)


def on_conversations_purged(sender, *, conversation_ids: list[int], **kwargs) -> None:
    services.delete_deliveries(conversation_ids=conversation_ids)


def connect() -> None:
    """Listen to the business events, and have delivery bodies rekeyed with the chats (once, whatever the calls)."""
    rekeying.register_sealable(WebhookDelivery, ("body",))
    signals.lead_created.connect(on_lead_created, dispatch_uid="integrations.lead_created")
    signals.handoff_created.connect(on_handoff_created, dispatch_uid="integrations.handoff_created")
    signals.conversation_closed.connect(on_conversation_closed, dispatch_uid="integrations.conversation_closed")
    signals.rating_given.connect(on_rating_given, dispatch_uid="integrations.rating_given")
    signals.offline_message_left.connect(on_offline_message_left, dispatch_uid="integrations.offline_message_left")
    signals.visitors_erased.connect(on_visitors_erased, dispatch_uid="integrations.visitors_erased")
    signals.conversations_purged.connect(on_conversations_purged, dispatch_uid="integrations.conversations_purged")
    reporting_signals.report_ready.connect(on_report_ready, dispatch_uid="integrations.report_ready")
