import os

import torch
from hypothesis import HealthCheck, settings

pytest_plugins = ["pytester"]

# torch work: no deadline; CI (CI=true) is derandomised by hypothesis's own "ci" profile,
# which we extend rather than replace.
settings.register_profile(
    "sith-dev", deadline=None, max_examples=30, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "sith-ci",
    parent=settings.get_profile("ci"),
    deadline=None,
    max_examples=30,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("sith-ci" if os.environ.get("CI") else "sith-dev")

torch.set_num_threads(min(2, torch.get_num_threads()))
