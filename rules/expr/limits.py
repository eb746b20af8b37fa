"""Bounds on what an expression may ask for, enforced at load so evaluation work stays small."""

MAX_SOURCE_CHARS = 4000
# The generated Python nests up to three parentheses per level and CPython's parser stops at 200.
MAX_DEPTH = 48
MAX_LIST_ITEMS = 1000
MAX_STRING_CHARS = 1000
MAX_NUMBER = 1e15  # larger magnitudes are typos or attempts to make arithmetic slow
MAX_NUMBER_CHARS = 24
MAX_CALL_ARGS = 16
