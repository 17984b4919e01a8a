"""``python -m ratecheck``: the command line (``ratecheck --help``)."""

from ratecheck.verify.__main__ import run

if __name__ == "__main__":
    run()
