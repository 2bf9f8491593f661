# Django's English formats, with the zone on the long date-time (the admin shows date-time fields with it).
DATETIME_FORMAT = "N j, Y, P T"
