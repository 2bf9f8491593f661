# Django's Finnish formats, with the zone on the long date-time (the admin shows date-time fields with it).
DATETIME_FORMAT = r"j. E Y \k\e\l\l\o G.i T"
