"""`python -m ctwatch ...`: the command line (see ctwatch.cli)."""

import sys

from ctwatch.cli import main

sys.exit(main())
