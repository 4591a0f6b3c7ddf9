"""harvestmatch: the project's base, below every package.

:mod:`harvestmatch.errors` is the one exception tree (and the way problems are listed);
:mod:`harvestmatch.settings` declares parameters once (default, limits, help) for every reader;
:mod:`harvestmatch.kinds` the data contract's column kinds and their limits;
:mod:`harvestmatch.money` is the one precision of published prices and amounts. The
working packages import one way, ``api`` -> ``matcher`` -> ``regions``, and all of them import from
here; this package imports nothing of theirs. The ``harvest`` command and the demo are the top
(:mod:`harvest`).
"""
