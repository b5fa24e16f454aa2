"""``python -m verification``: the ``sith`` command line."""

from verification._entry import main

if __name__ == "__main__":
    main()
