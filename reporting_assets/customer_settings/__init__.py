"""Per-customer report settings: sections, list length, locale, time zone, template blocks."""
