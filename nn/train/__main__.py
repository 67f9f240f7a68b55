"""``python -m nn.train``: see ``nn.train.command``."""
import sys

from .command import main

sys.exit(main())
