"""The training application: ``python -m nn.train`` trains an MLP or a CNN on Fashion-MNIST (or MNIST).

Built on the library (``nn``, ``autograd``) and nothing else; the library never imports it.

    command.py   the command: its options, the loop over epochs and what it prints, Ctrl-C
    models.py    the MLP and CNN it builds        epoch.py   one epoch, evaluation, the learning-rate schedule
    runs.py      the run directory and checkpoint  plots.py   training.png
    cli.py       the argparse number type both commands use (``--lr must be > 0, got nan``)
"""
from .command import main
from .runs import load_checkpoint

__all__ = ["load_checkpoint", "main"]
