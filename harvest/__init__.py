"""harvest: the top of the house. :mod:`harvest.cli` is the ``harvest`` command (it gathers each
package's subcommands: ``match``, ``plan``, ``routes`` from :mod:`matcher`, ``serve``, ``worker``, ``keys``,
``db`` from :mod:`api`, and ``demo``), and :mod:`harvest.demo` builds the demo day on real geography.
Nothing of the core imports it.
"""
