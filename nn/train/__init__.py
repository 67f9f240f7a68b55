"""The training application: ``python -m nn.train`` trains an MLP or a CNN on Fashion-MNIST (or MNIST).

Built on the library (``nn``, ``autograd``) and nothing else; the library never imports it (``nn.train`` is
imported on first use).

    command.py      the command: its options, the loop over epochs and what it prints, Ctrl-C
    from_python.py  ``nn.train(...)``: the command as a function (same options as keywords), with the live view
    models.py    the MLP and CNN it builds        epoch.py   one epoch, evaluation, the learning-rate schedule
    runs.py      the run directory and checkpoint  plots.py   training.png
    cli.py       the argparse number type both commands use (``--lr must be > 0, got nan``)

This package can be called: ``nn.train(epochs=5, live=True)`` is ``from_python.train``.
"""
import inspect
import sys
import types

from .. import _interrupted_while_starting

try:
    from .command import main
    from .from_python import TrainResult
    from .from_python import train as _train
    from .runs import load_checkpoint
except KeyboardInterrupt:
    _interrupted_while_starting()
    raise

__all__ = ["TrainResult", "load_checkpoint", "main"]


class _CallableModule(types.ModuleType):
    """This package's class, so that ``nn.train(...)`` runs the training command while ``nn.train`` stays the
    package that ``python -m nn.train``, ``from nn.train import command`` and ``nn.train.load_checkpoint`` need.

    A module object cannot be called, and one name cannot be both a package and a function; but Python lets a
    module's ``__class__`` be set to a ``ModuleType`` subclass, whose ``__call__`` then applies to it.
    """

    def __call__(self, **options: object) -> TrainResult:
        return _train(**options)

    __call__.__doc__ = _train.__doc__
    # The function's keywords, for help() and for Jupyter's completion and signature tips.
    __call__.__signature__ = _train.__signature__.replace(  # type: ignore[attr-defined]
        parameters=[inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY),
                    *_train.__signature__.parameters.values()])


sys.modules[__name__].__class__ = _CallableModule
