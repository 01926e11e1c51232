# Person as the compiled type (its members read as struct fields, not by name); the scans as C calls
from programkit.simulate.person cimport Person
from programkit.simulate.digits cimport long_digit_run, seconds_in_hour
