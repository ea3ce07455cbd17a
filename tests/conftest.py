"""Settings shared by every test directory: hypothesis profiles.

`ci` (chosen when the `CI` environment variable is set) is derandomised so that a run is
reproducible; `dev` keeps hypothesis' random exploration. Neither has a deadline: timing on
shared machines is too noisy to fail tests on.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
