# The compiled Person (person.py): typed struct members instead of slots looked up by name.
cdef class Person:
    cdef public str id
    cdef public dict fields
    cdef public object state
    cdef public object applies
    cdef public Py_ssize_t epoch
    cdef public dict flags
    cdef public list history
    cdef public dict ran
    cdef public object status
