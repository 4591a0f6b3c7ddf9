"""harvestmatch: the project's base of errors, the ``harvest`` command and the demo.

The three working packages import one way, ``api`` -> ``matcher`` -> ``regions``; all of them raise
from :mod:`harvestmatch.errors`, which imports nothing of theirs. :mod:`harvestmatch.cli` is the top of
the graph (it gathers each package's commands) and :mod:`harvestmatch.demo` builds the demo day on real
geography; neither is imported by the core.
"""
