"""Where a learner trains: ``device`` = "cpu" (the default, what the tests run), "cuda",
"cuda:N" or "auto" (cuda when this process sees a GPU, else cpu).

Data is drawn on the CPU (numpy, seeded) and moved to the device a batch at a time; the
encoder a Fit returns takes and gives CPU tensors, so nothing downstream (metrics,
reports) sees the device. A GPU run is seeded like a CPU run but its floating-point
results differ, and ``device`` is part of the learner's configuration, so the two are
different records of the result store.
"""

from __future__ import annotations

import torch

from theory.errors import InvalidProcess
from verification._learner_specs import DEVICE, check_device


def resolve_device(device: str) -> torch.device:
    """The torch device to train on. A GPU that this process cannot see is refused with
    one clear line (``InvalidProcess``: an evaluation that cannot run here, an error row
    in a sweep), never a CUDA traceback."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise InvalidProcess(
                f"device {device!r}: this machine has no CUDA GPU that torch can use "
                "(torch.cuda.is_available() is False); train with device='cpu' or 'auto'"
            )
        index = int(device.split(":")[1]) if ":" in device else 0
        if index >= torch.cuda.device_count():
            raise InvalidProcess(
                f"device {device!r}: only {torch.cuda.device_count()} CUDA device(s) here"
            )
    return torch.device(device)


__all__ = ["DEVICE", "check_device", "resolve_device"]
