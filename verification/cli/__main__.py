"""``python -m verification.cli``: the ``sith`` command line."""

from verification._entry import main

if __name__ == "__main__":
    main()
