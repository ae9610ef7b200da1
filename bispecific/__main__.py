"""`python -m bispecific` is the `bispecific` command."""

import sys

from .cli import main

sys.exit(main())
