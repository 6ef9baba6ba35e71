"""Hypothesis profiles: ``ci`` (set when CI=true) is derandomised, so a CI run is repeatable;
the default explores new examples on every run. Neither has a deadline: sympy, the oracle of
the property tests, takes an unpredictable time on shared machines."""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("dev", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
