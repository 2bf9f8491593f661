"""The project's own pages in the operations admin: the week plan (``staffing_admin``) and a visitor's data
(``conversations.rights_admin``)."""

from __future__ import annotations

from django.contrib import admin

from chatops.staffing_admin import week_plan_view
from conversations.rights_admin import visitor_data_view

admin.site.add_page("staffing/week/", week_plan_view, name="staffing-week")
admin.site.add_page("privacy/visitor/", visitor_data_view, name="visitor-data")
