"""`python -m registry_async`: the `regv2` command line."""

import sys

from registry_async._cli._main import main

sys.exit(main())
