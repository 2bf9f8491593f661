"""Business events of reporting, for apps above this one (integrations) to learn of them.

Sent like ``conversations.signals``: by the service that made the change, inside its transaction, so
a receiver's rows go or stay with it; a receiver never talks to the outside world before commit.
"""

from __future__ import annotations

from django.dispatch import Signal

# delivery=ReportDelivery, report=reporting.reports.Report: a report composed for the first time
report_ready = Signal()
