"""image: a Design Studio image (bytes kept as they are). Other assets name it by file name in URLs.

Conflict rule ``images`` (keepBoth | replace | reuseIfIdentical | fail); a keep-both copy keeps its extension
last ("logo - 1.png", see :func:`programkit.rules.copy_name`). Export finds the images an asset uses by the
last path segment of its ``src``/``href``/``background`` URLs and CSS ``url(…)``.
"""

from __future__ import annotations

from .base import Kind

KIND = Kind(name="image", label="images", format="binary", scope="design", directory="images", rule="images",
            inventory_section="images", rank=10,
            copy_keeps_extension=True)
