"""``python -m hpsearch`` is ``hps``."""
from .cli import main

main()
