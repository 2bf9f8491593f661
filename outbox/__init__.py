"""The outbox: every e-mail chatops sends, written with the business change, sent after it.

It sits below every other app (tenants, conversations, reporting and the project import it; it
imports none of them), so any of them can send e-mail through ``outbox.services.queue_email``.
"""
