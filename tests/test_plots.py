"""training.png (nn/train/plots.py): each curve is drawn where its numbers belong."""
from __future__ import annotations

import numpy as np

from nn.train.plots import plot_history


def test_epoch_means_sit_among_the_batches_they_average_and_accuracy_at_the_epochs_end(tmp_path):
    batches = [4.0, 3.5, 3.0, 2.5, 2.0, 1.5]  # two epochs of three steps, the loss falling in a straight line
    means = [np.mean(batches[:3]), np.mean(batches[3:])]  # 3.5 and 2.0
    fig = plot_history(means, [0.5, 0.6], tmp_path / "training.png", step_losses=batches, steps_per_epoch=3)
    ax_loss, ax_acc = fig.axes[:2]
    lines = {line.get_label(): line for line in ax_loss.get_lines()}
    x_batch, y_batch = lines["batch"].get_xdata(), lines["batch"].get_ydata()
    assert np.allclose(x_batch, [1 / 3, 2 / 3, 1, 4 / 3, 5 / 3, 2])  # each batch at the end of its step
    x_mean, y_mean = lines["epoch mean"].get_xdata(), lines["epoch mean"].get_ydata()
    assert np.allclose(x_mean, [2 / 3, 5 / 3])  # the middle of each epoch's batches, not the epoch's end
    assert np.allclose(np.interp(x_mean, x_batch, y_batch), y_mean)  # so a mean lies on the curve it averages
    (acc,) = ax_acc.get_lines()
    assert np.allclose(acc.get_xdata(), [1, 2])  # test accuracy is measured once an epoch has ended
    assert (tmp_path / "training.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
