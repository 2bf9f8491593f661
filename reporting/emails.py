"""The report e-mail: a plain-text part, an HTML part with its charts inline, and the CSV files.

The message is built as

    multipart/mixed
      multipart/alternative
        text/plain
        multipart/related
          text/html            (<img src="cid:…">)
          image/png …          (Content-ID, inline)
      text/csv …               (attachments)

which is the shape Gmail, Outlook and Apple Mail show as one HTML message with its pictures,
and the text part for clients that want text.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from email.mime.image import MIMEImage
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import SafeMIMEMultipart
from django.template.loader import render_to_string

from reporting.charts import Chart
from reporting.reports import Report, tenant_locale

CONTENT_ID_DOMAIN = "report.chatops"


class RelatedImagesEmail(EmailMultiAlternatives):
    """An HTML e-mail whose images travel with the HTML part in a multipart/related.

    Django 5.2 puts alternatives in a multipart/alternative and nothing more; this wraps its
    last alternative (the HTML) with the inline images.
    """

    def __init__(self, *args, inline_images: list[MIMEImage] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.inline_images = inline_images or []

    def _create_alternatives(self, msg):
        alternative = super()._create_alternatives(msg)
        if not self.inline_images or not self.alternatives:
            return alternative
        parts = alternative.get_payload()
        related = SafeMIMEMultipart(_subtype="related", encoding=self.encoding or settings.DEFAULT_CHARSET)
        related.attach(parts[-1])
        for image in self.inline_images:
            related.attach(image)
        alternative.set_payload([*parts[:-1], related])
        return alternative


def content_ids(report: Report) -> dict[str, str]:
    """Return a fresh Content-ID (without angle brackets) per chart of the report."""
    return {
        block.chart.name: make_msgid(idstring=block.chart.name, domain=CONTENT_ID_DOMAIN)[1:-1]
        for block in report.charts
    }


def _inline_image(chart: Chart, content_id: str) -> MIMEImage:
    image = MIMEImage(chart.png, "png")
    image.add_header("Content-ID", f"<{content_id}>")
    image.add_header("Content-Disposition", "inline", filename=chart.filename)
    return image


def render_text(report: Report) -> str:
    """Return the plain-text part: plain text, never marked safe, so any HTML page that shows it escapes it.

    (The template renders with autoescape off, as text must; Django still marks its output safe.)
    """
    with tenant_locale(report.tenant):
        return str.__str__(render_to_string("reporting/email/report.txt", {"report": report}))


def render_html(report: Report, *, image_source: Callable[[Chart], str]) -> str:
    """Return the HTML part; ``image_source`` gives each chart's ``src`` (cid: in mail, data: in a preview)."""
    charts = [{"block": block, "src": image_source(block.chart)} for block in report.charts]
    with tenant_locale(report.tenant):
        return render_to_string("reporting/email/report.html", {"report": report, "charts": charts})


def data_uri(chart: Chart) -> str:
    """Return the chart as a data: address, for showing the HTML in a browser."""
    return "data:image/png;base64," + base64.b64encode(chart.png).decode("ascii")


def report_email(report: Report, *, to: list[str]) -> RelatedImagesEmail:
    """Return the report as an e-mail to the given addresses, ready to send."""
    cids = content_ids(report)
    email = RelatedImagesEmail(
        subject=report.subject,
        body=render_text(report),
        to=to,
        inline_images=[_inline_image(block.chart, cids[block.chart.name]) for block in report.charts],
        headers={"Content-Language": report.language},
    )
    email.attach_alternative(render_html(report, image_source=lambda chart: f"cid:{cids[chart.name]}"), "text/html")
    for attachment in report.attachments:
        email.attach(attachment.filename, attachment.content, attachment.mimetype)
    return email
