"""Measure work by counting it, not timing it: a busy machine changes no count.

`steps(fn)` counts the Python lines `fn` executes (sys.settrace); `peak(fn)`
the most memory Python had allocated meanwhile (tracemalloc). Growth tests
compare the counts at two input sizes: four times the input costs about four
times the steps when the work is linear, sixteen when it is quadratic.
Work done inside one C call (a regular expression's own backtracking) is not
counted; bench/huge_input.py times the real thing.
"""

from __future__ import annotations

import sys
import tracemalloc
from collections.abc import Callable


def steps(fn: Callable[[], object]) -> int:
    count = 0

    def local(_frame, event, _arg):
        nonlocal count
        if event == "line":
            count += 1
        return local

    previous = sys.gettrace()
    sys.settrace(lambda _frame, _event, _arg: local)
    try:
        fn()
    finally:
        sys.settrace(previous)
    return count


def peak(fn: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
