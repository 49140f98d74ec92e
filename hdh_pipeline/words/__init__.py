"""What people read, in their language: the words (one module per language, same keys), numbers written the
language's way, and the one language rule.

The rule: what speaks of one source (its pages, charts and exports) speaks its declaration's `language`; what
speaks of every source (the site's home page) speaks the catalogue's language (`HDH_SITE_LANGUAGE`, French by
default).
"""
from __future__ import annotations

from cron_descriptor import ExpressionDescriptor, Options

from hdh_pipeline import settings
from hdh_pipeline.words import en, fr

LANGUAGES = {"fr": fr.WORDS, "en": en.WORDS}
LOCALES = {"fr": "fr_FR", "en": "en_US"}  # cron-descriptor's
CHART_LOCALES = {"fr": "fr-FR", "en": "en-GB"}  # Vega's number formats (vl-convert): 1 000,5 in French
THOUSANDS = {"fr": "\u202f", "en": ","}
DECIMAL = {"fr": ",", "en": "."}
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")  # keys of each language


def language_of(database: dict | None = None) -> str:
    """The language of a source's outputs (its `databases` row), or of the outputs about every source."""
    language = (database or {}).get("language") or settings.site_language()
    return language if language in LANGUAGES else "fr"


def words(language: str) -> dict[str, str]:
    return LANGUAGES[language if language in LANGUAGES else "fr"]


def integer(value: int, language: str) -> str:
    """12345 -> `12 345` (fr, narrow no-break space) or `12,345` (en)."""
    return f"{value:,}".replace(",", THOUSANDS.get(language, ","))


def decimal(value: float, language: str, digits: int = 4) -> str:
    """At most `digits` decimals, trailing zeros dropped, the language's decimal mark."""
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return text.replace(".", DECIMAL.get(language, "."))


def schedule(cron: str, language: str) -> str:
    """'0 3 * * 1' -> 'À 03:00, uniquement le lundi' (fr) or 'At 03:00, only on Monday' (en)."""
    options = Options()
    options.locale_code = LOCALES.get(language, "en_US")
    options.use_24hour_time_format = True
    text = ExpressionDescriptor(cron, options).get_description()
    for day in DAYS:  # cron-descriptor's French leaves the day names in English
        text = text.replace(day, words(language)[day])
    return text
