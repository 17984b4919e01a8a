"""``python -m verify`` runs the ``ratecheck`` command line."""
import sys

from .cli import main

sys.exit(main())
