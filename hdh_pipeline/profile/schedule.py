"""A cron refresh schedule in words, for people (the cron string stays for machines)."""
from __future__ import annotations

from cron_descriptor import ExpressionDescriptor, Options

DAYS_FR = {"Monday": "lundi", "Tuesday": "mardi", "Wednesday": "mercredi", "Thursday": "jeudi",
           "Friday": "vendredi", "Saturday": "samedi", "Sunday": "dimanche"}
LOCALES = {"fr": "fr_FR", "en": "en_US"}


def schedule_in_words(cron: str, language: str = "fr") -> str:
    """'0 3 * * 1' -> 'À 03:00, uniquement le lundi' (fr) or 'At 03:00, only on Monday' (en)."""
    options = Options()
    options.locale_code = LOCALES.get(language, "en_US")
    options.use_24hour_time_format = True
    text = ExpressionDescriptor(cron, options).get_description()
    if language == "fr":  # cron-descriptor's French leaves the day names in English
        for english, french in DAYS_FR.items():
            text = text.replace(english, french)
    return text
