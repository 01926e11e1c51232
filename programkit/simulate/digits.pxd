# The compiled digit scan (digits.py): a C loop over the block's bytes.
cimport cython

cdef bint COMPILED
cdef Py_ssize_t _RUN

@cython.locals(n=Py_ssize_t, j=Py_ssize_t, start=Py_ssize_t, end=Py_ssize_t, c=cython.uchar)
cpdef bint long_digit_run(bytes block)
