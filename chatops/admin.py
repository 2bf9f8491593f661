"""The project's own pages in the operations admin: the week plan (``staffing_admin``) and a visitor's data
(``conversations.rights_admin``); the coming week's short hours on the front page and the shifts list."""

from __future__ import annotations

from django.contrib import admin

from chatops.staffing_admin import short_hours_notice, week_plan_view
from conversations.rights_admin import visitor_data_view

admin.site.add_page("staffing/week/", week_plan_view, name="staffing-week")
admin.site.add_page("privacy/visitor/", visitor_data_view, name="visitor-data")
admin.site.add_notice(short_hours_notice, on="index")
admin.site.add_notice(short_hours_notice, on="workforce.shift")
