"""``python -m deskwatch.core.cli`` runs the command line, as the ``deskwatch`` script does."""

import sys

from deskwatch.core.cli import main

sys.exit(main())
