"""HTTP routes of the agent console: the page, and the JSON endpoints beside the chat; the live part is /ws/console/."""

from django.urls import path, re_path

from conversations import console_views

chat = "console/api/chats/<int:conversation_id>/"

urlpatterns = [
    path("console/", console_views.console, name="console"),
    path("console/api/notices/", console_views.open_notices, name="console_api_notices"),
    path(
        "console/api/notices/<int:notice_id>/acknowledge/",
        console_views.acknowledge_notice,
        name="console_api_acknowledge_notice",
    ),
    path(f"{chat}context/", console_views.chat_context, name="console_api_chat_context"),
    path(f"{chat}visitor/", console_views.chat_visitor, name="console_api_chat_visitor"),
    path(f"{chat}search/", console_views.chat_search, name="console_api_chat_search"),
    path(f"{chat}canned/", console_views.chat_canned, name="console_api_chat_canned"),
    path(f"{chat}notes/", console_views.chat_notes, name="console_api_chat_notes"),
    path(f"{chat}tags/", console_views.chat_tags, name="console_api_chat_tags"),
    re_path(r"^console/api/", console_views.api_not_found),
]
