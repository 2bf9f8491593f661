"""Moments shown to people: in the zone they are labelled with, in the reader's language's format.

One helper, ``show_moment``, writes every date and time a person reads (e-mails, admin pages, the
live pages' server-rendered parts); the template tag ``{% moment value zone style %}`` calls it. The
zone is named on the moment itself (its abbreviation, "EET", "CEST", "UTC"), so a time is never read
as local when it is not. This package imports only Django: every app may use it.

``moments.formats`` corrects Django's formats where they do not read as the language's readers
expect (Polish short dates are 30.11.2026, not 30-11-2026) and adds the zone to the long date-time
format, which Django's admin uses for date-time fields it shows.
"""
