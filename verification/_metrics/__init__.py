"""The recovery metrics, by job (private): the public names live in
:mod:`verification.metrics`, which re-exports them."""
