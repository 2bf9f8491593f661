# Polish dates are written 30.11.2026 (Django's own catalogue has 30-11-2026); the long date-time names the zone.
SHORT_DATE_FORMAT = "d.m.Y"
SHORT_DATETIME_FORMAT = "d.m.Y H:i"
DATETIME_FORMAT = "j E Y H:i T"
