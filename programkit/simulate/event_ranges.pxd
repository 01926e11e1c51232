# the event loop's scans as direct C calls
from programkit.simulate.digits cimport long_digit_run, seconds_in_hour
