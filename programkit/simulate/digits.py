"""Whether a block of the events file holds a run of 19 or more digits: a number orjson may
read otherwise than the json module (see :data:`.inputs._LONG_DIGITS`), so the lines of that
block are checked one by one."""

from __future__ import annotations

from .inputs import _DIGITS_AS_ZERO

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
