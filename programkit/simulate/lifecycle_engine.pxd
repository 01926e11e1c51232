# Person as the compiled type: its members are read as struct fields, not by name
from programkit.simulate.person cimport Person
