"""The learner contract suite, by job (private): :mod:`verification.testing` is its
public face. ``harness`` holds the shared state; ``config``, ``fits`` and ``encode`` the
checks, each a function of the harness; ``watch`` the watched process."""
