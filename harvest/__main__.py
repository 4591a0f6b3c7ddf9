"""``python -m harvest``: the ``harvest`` command."""

import sys

from harvest.cli import main

sys.exit(main())
