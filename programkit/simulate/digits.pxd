# The compiled digit scan (digits.py): a C loop over the block's bytes.
cimport cython

cdef Py_ssize_t _RUN

@cython.locals(n=Py_ssize_t, j=Py_ssize_t, start=Py_ssize_t, end=Py_ssize_t, c=cython.uchar)
cpdef bint long_digit_run(bytes block)

@cython.locals(m1=cython.Py_UCS4, m2=cython.Py_UCS4, colon=cython.Py_UCS4, s1=cython.Py_UCS4, s2=cython.Py_UCS4, zulu=cython.Py_UCS4)
cpdef Py_ssize_t seconds_in_hour(str at, str prefix)
