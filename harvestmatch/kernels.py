"""The compiled kernels, and when a small call runs them interpreted instead.

The solver's inner loops (:mod:`matcher.dense`, :mod:`matcher.simplex`, :mod:`matcher.potentials`) and
the arcsine of every distance (:mod:`regions.geodesy`) are written once, as plain Python over numpy
arrays, and compiled by numba (``njit(cache=True)``; ``make venv`` fills numba's on-disk cache). Loading
them is not free: importing numba, its typing and lowering registries and the BLAS it looks for in
scipy costs a process about 0.8 s on this kind of machine, more than everything else a tiny day does.

So a :func:`kernel` runs **interpreted** (the same function, by the Python interpreter) when numba is
not loaded in the process yet and the call is small (no array argument longer than
:data:`INTERPRETED_MAX_LEN`, and the process's interpreted calls so far within
:data:`INTERPRETED_BUDGET`), and **compiled** otherwise. The first compiled call loads numba and
swaps every kernel's module global for its compiled dispatcher, so compiled kernels call each other
compiled; from then on everything in the process runs compiled. Both ways evaluate the same operations
in the same order on the same IEEE doubles and 64-bit integers (numba compiles without fast-math, and
takes ``math`` functions from the same libm as the interpreter), so they agree bit for bit
(``tests/harvestmatch/test_kernels.py`` runs random problems both ways).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

#: a call none of whose array arguments is longer than this runs interpreted while numba is not
#: loaded: at interpreted speed (about a microsecond per element operation) such a call takes a few
#: milliseconds, against the 0.8 s of loading numba for it
INTERPRETED_MAX_LEN = 256

#: elements (the largest array of each call, summed) a process runs interpreted before it loads numba
#: after all: a day of many small products would otherwise pay the interpreter's speed many times over
INTERPRETED_BUDGET = 20_000

_KERNELS: list[Kernel] = []
_SPENT = [0]

#: set inside :func:`interpreted`
_FORCED = [False]


def kernel(**options: Any) -> Callable[[Callable[..., Any]], Kernel]:
    """Declare a kernel: ``@kernel(cache=True)`` as one would write ``@numba.njit(cache=True)``."""

    def wrap(func: Callable[..., Any]) -> Kernel:
        made = Kernel(func, options)
        _KERNELS.append(made)
        return made

    return wrap


class Kernel:
    """A function that runs compiled by numba, or interpreted when the call is small and numba is not
    loaded (module docstring). ``py_func`` is the function itself."""

    def __init__(self, func: Callable[..., Any], options: dict[str, Any]) -> None:
        self.py_func = func
        self.options = options
        self.compiled: Any = None
        self.__name__ = func.__name__
        self.__doc__ = func.__doc__

    def __call__(self, *args: Any) -> Any:
        if _FORCED[0] or (self.compiled is None and runs_interpreted(_largest(args))):
            return self.py_func(*args)
        if self.compiled is None:
            compile_all()
        return self.compiled(*args)


def runs_interpreted(size: int) -> bool:
    """Whether a call whose largest array has ``size`` elements runs interpreted (module docstring),
    counting it against the process's :data:`INTERPRETED_BUDGET` when it does."""
    if _FORCED[0]:
        return True
    if "numba" in sys.modules or size > INTERPRETED_MAX_LEN or _SPENT[0] + size > INTERPRETED_BUDGET:
        return False
    _SPENT[0] += size
    return True


@contextmanager
def interpreted() -> Iterator[None]:
    """Run every kernel interpreted inside the block, numba loaded or not: the tests compare the two
    ways, and a kernel can be stepped through in a debugger. Not for threads running kernels alongside."""
    saved = [(made, made.py_func.__globals__[made.__name__]) for made in _KERNELS]
    for made in _KERNELS:
        made.py_func.__globals__[made.__name__] = made
    _FORCED[0] = True
    try:
        yield
    finally:
        _FORCED[0] = False
        for made, value in saved:
            made.py_func.__globals__[made.__name__] = value


def _largest(args: tuple[Any, ...]) -> int:
    """The most elements of any argument (or item of a tuple argument)."""
    return max((getattr(item, "size", 0) for arg in args for item in (arg if isinstance(arg, tuple) else (arg,))), default=0)


def compile_all() -> None:
    """Give every kernel its numba dispatcher (loaded from numba's cache, or compiled on first use)
    and put the dispatcher in the kernel's module in its place, so that compiled kernels calling each
    other find compiled callees."""
    from numba import njit

    for made in _KERNELS:
        if made.compiled is None:
            made.compiled = njit(**made.options)(made.py_func)
            made.py_func.__globals__[made.__name__] = made.compiled


__all__ = ["INTERPRETED_BUDGET", "INTERPRETED_MAX_LEN", "Kernel", "compile_all", "interpreted", "kernel", "runs_interpreted"]
