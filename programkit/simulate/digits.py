"""Scans of the event loop, C loops in the compiled core: whether a block of the events file
holds a run of 19 or more digits (a number orjson may read otherwise than the json module, see
:data:`.inputs._LONG_DIGITS`, so the lines of that block are checked one by one), and the
seconds of an event time within the hour of the time before it."""

from __future__ import annotations

from .inputs import _DIGITS_AS_ZERO, _MIN_SEC

#: True in the compiled core: there the probing loop below is C, and cheaper than translate + find
COMPILED = not __file__.endswith(".py")
_RUN = 19


def long_digit_run(block: bytes) -> bool:
    """True when ``block`` has 19 or more ASCII digits in a row."""
    if not COMPILED:  # in Python, a loop over bytes is far slower than these two C calls
        return b"0000000000000000000" in block.translate(_DIGITS_AS_ZERO)
    # Probe every 19th byte: any run of 19 digits covers one probe. A probe on a digit measures
    # its run; the next run starts after the run's end, so probing resumes 19 bytes past it.
    n = len(block)
    j = _RUN - 1
    while j < n:
        c = block[j]
        if 48 <= c <= 57:
            start = j
            while start > 0 and 48 <= block[start - 1] <= 57:
                start -= 1
            end = j + 1
            while end < n and 48 <= block[end] <= 57:
                end += 1
            if end - start >= _RUN:
                return True
            j = end + _RUN
        else:
            j += _RUN
    return False


def seconds_in_hour(at: str, prefix: str | None) -> int:
    """The minutes and seconds of ``at`` in seconds when it is ``prefix`` ("YYYY-MM-DDTHH:")
    followed by "MM:SSZ", else -1: the event loop's fast path for a time within the hour of the
    time before. Compiled, it reads the characters in place (no slices: two fewer strings an event)."""
    if not COMPILED:
        if at[:14] != prefix:
            return -1
        sec = _MIN_SEC.get(at[14:])
        return -1 if sec is None else sec
    if prefix is None or len(at) != 20 or not at.startswith(prefix):  # a prefix is 14 characters
        return -1
    m1, m2, colon, s1, s2, zulu = at[14], at[15], at[16], at[17], at[18], at[19]
    if (colon != ":" or zulu != "Z" or not "0" <= m1 <= "5" or not "0" <= m2 <= "9"
            or not "0" <= s1 <= "5" or not "0" <= s2 <= "9"):
        return -1
    return ((ord(m1) - 48) * 10 + ord(m2) - 48) * 60 + (ord(s1) - 48) * 10 + ord(s2) - 48
