"""Slugs: a name in any script as lowercase ASCII words joined by '-' (bundle names, exported file names).

``new`` and ``export`` share this one transliteration, so a program called "営業チーム" is ``yingyechimu``
whichever of them names it.
"""

from __future__ import annotations

import re

from anyascii import anyascii


def slug(text: str, limit: int = 64) -> str:
    """Lowercase ASCII letters and digits, '-' between words, at most ``limit`` characters; "" when nothing is
    left (punctuation only). Other scripts are transliterated first (anyascii): "Équipe Montréal" →
    ``equipe-montreal``, "営業チーム" → ``yingyechimu``, "Straße" → ``strasse``, "🎉" → ``tada``."""
    return re.sub(r"[^a-z0-9]+", "-", anyascii(text).lower()).strip("-")[:limit].strip("-")
