"""nn.LiveView: what it records, its SVG, its text lines outside Jupyter, and in-place updates inside a kernel."""
from __future__ import annotations

import io
import math
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import nbclient
import nbformat
import numpy as np
import pytest

import nn
from autograd import Tensor, Value
from nn import functional as F
from nn.live import LiveView
from nn.svg_chart import Line, Panel, _decimate, _labels, _ticks, render

ROOT = Path(__file__).resolve().parents[1]
SVG = "{http://www.w3.org/2000/svg}"


def _tiny_model(seed: int = 0) -> nn.Sequential:
    rng = np.random.default_rng(seed)
    return nn.Sequential(nn.Linear(4, 3, rng=rng), nn.ReLU(), nn.Linear(3, 2, rng=rng))


def _text_view(**kwargs) -> tuple[LiveView, io.StringIO]:
    out = io.StringIO()
    return LiveView(mode="text", file=out, **kwargs), out


# -- what it records ---------------------------------------------------------------------------------


def test_smoothed_loss_is_the_bias_corrected_moving_average():
    view, _ = _text_view(smoothing=0.5)
    for loss in (4.0, 2.0, 1.0):
        view.update(loss)
    # s1 = 0.5·4 = 2, w1 = 0.5 → 4;  s2 = 0.5·2 + 0.5·2 = 2, w2 = 0.75 → 8/3;
    # s3 = 0.5·2 + 0.5·1 = 1.5, w3 = 0.875 → 12/7
    assert view.smoothed == pytest.approx([4.0, 8 / 3, 12 / 7])
    assert view.losses == [4.0, 2.0, 1.0] and view.steps == 3


def test_a_nan_loss_is_kept_raw_and_left_out_of_the_average():
    view, _ = _text_view(smoothing=0.5)
    for loss in (4.0, math.nan, 2.0):
        view.update(loss)
    assert math.isnan(view.losses[1])
    assert view.smoothed[1] == 4.0 and view.smoothed[2] == pytest.approx(8 / 3)


def test_update_accepts_values_and_one_element_tensors():
    view, _ = _text_view()
    view.update(Value(1.5), lr=0.1)
    view.update(Tensor(np.array(2.5, dtype=np.float32)))
    assert view.losses == [1.5, 2.5]
    assert view.lrs[0] == 0.1 and math.isnan(view.lrs[1])


def test_model_gradient_norms_are_recorded_per_layer_at_update():
    model = _tiny_model()
    view, _ = _text_view(model=model, grad_every=1)
    x = np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32)
    loss = F.cross_entropy(model(Tensor(x)), np.array([0, 1, 0, 1, 1]))
    loss.backward()
    view.update(loss)
    first = model[0]
    by_hand = math.sqrt(float((first.weight.grad ** 2).sum() + (first.bias.grad ** 2).sum()))
    assert view.flow.grad_norms["0"][-1] == pytest.approx(by_hand, rel=1e-6)
    assert view.flow.layers == ["0", "2"]


def test_update_after_zero_grad_says_where_to_call_it():
    model = _tiny_model()
    view, _ = _text_view(model=model, grad_every=1)
    view.update(1.0)  # no backward() has run: no gradients
    assert "after loss.backward()" in view.to_svg()


def test_model_and_flow_together_are_refused():
    model = _tiny_model()
    with pytest.raises(ValueError, match="not both"):
        LiveView(model, flow=nn.gradflow.GradientFlow(model))


# -- the picture -------------------------------------------------------------------------------------


def test_svg_has_a_panel_for_each_kind_of_number_given():
    view, _ = _text_view(model=_tiny_model())
    view.update(1.0, lr=0.1)
    view.end_epoch(train_loss=0.9, test_accuracy=0.5)
    root = ET.fromstring(view.to_svg())  # well-formed XML
    texts = [t.text for t in root.iter(f"{SVG}text")]
    for title in ("loss per step", "metrics per epoch", "learning rate", "gradient norm per layer"):
        assert any(t and t.startswith(title) for t in texts), (title, texts)
    assert "test_accuracy (%)" in texts  # fractions named accuracy are drawn in percent
    assert "step 1 · epoch 1 · loss 1 (smoothed 1) · lr 0.1 · train_loss 0.9 · test_accuracy 50.00%" in texts[0]


def test_panels_without_numbers_are_left_out():
    view, _ = _text_view()
    view.update(2.0)
    texts = [t.text for t in ET.fromstring(view.to_svg()).iter(f"{SVG}text")]
    assert not any(t and t.startswith(("learning rate", "metrics", "gradient")) for t in texts)


def test_a_long_run_is_drawn_with_at_most_two_points_per_pixel_column():
    view, _ = _text_view()
    rng = np.random.default_rng(0)
    for loss in rng.uniform(1, 2, 20_000):
        view.update(loss)
    root = ET.fromstring(view.to_svg())
    longest = max(len(p.get("d").split()) for p in root.iter(f"{SVG}path"))
    assert longest <= 2 * 940
    assert len(view.to_svg()) < 100_000


def test_decimation_keeps_each_columns_extremes():
    x = np.arange(12.0)
    y = np.array([0, 5, 1, 2, 9, 3, 4, 4, 4, -1, 0, 0], dtype=float)
    dx, dy = _decimate(x, y, pixels=3)  # columns of 4 points each
    assert dx.tolist() == [0, 0, 4, 4, 8, 8]
    assert dy.tolist() == [0, 5, 3, 9, -1, 4]


def test_smooth_lines_keep_one_point_per_column_and_the_last():
    x = np.arange(12.0)
    dx, dy = _decimate(x, 2 * x, pixels=3, noisy=False)
    assert dx.tolist() == [0, 4, 8, 11] and dy.tolist() == [0, 8, 16, 22]


def test_ticks_are_round_numbers_inside_the_range():
    assert _ticks(0.0, 1.0, log=False, count=5) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert _ticks(0.03, 20.0, log=True, count=5) == pytest.approx([0.1, 1.0, 10.0])  # four decades: powers of 10
    assert _ticks(0.3, 20.0, log=True, count=5) == pytest.approx([0.5, 1.0, 2.0, 5.0, 10.0, 20.0])  # two: 1, 2, 5
    assert [text for _, text in _labels([0.0, 5e-4, 1e-3])] == ["0", "5e-4", "1e-3"]


def test_points_that_cannot_be_drawn_on_a_log_axis_break_the_line():
    panel = Panel("p", "x", [Line("a", np.arange(6.0), np.array([1, 10, 0, 100, np.nan, 1000.0]), "#000")],
                  log_y=True)
    paths = [p.get("d") for p in ET.fromstring(render([panel])).iter(f"{SVG}path")]
    assert len(paths) == 1 and paths[0].count("M") == 1  # 1 → 10 is one run; 100 and 1000 stand alone


# -- outside Jupyter: text lines ---------------------------------------------------------------------


def test_text_mode_prints_a_few_lines_not_one_per_step():
    view, out = _text_view(model=_tiny_model(), grad_every=1)
    model = view.flow.model
    x = np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32)
    for _ in range(200):
        loss = F.cross_entropy(model(Tensor(x)), np.array([0, 1, 0, 1, 1]))
        model.zero_grad()
        loss.backward()
        view.update(loss, lr=0.01)
    view.end_epoch(test_accuracy=0.75)
    view.close()
    lines = out.getvalue().splitlines()
    # the first step at once, the epoch, and the final state at close(); the 10 s interval never passed
    assert [line.split()[0] for line in lines] == ["step", "epoch", "step"]
    assert lines[0].startswith("step      1  loss ") and "lr 0.01" in lines[0] and "‖∂L/∂θ‖ 0:" in lines[0]
    assert lines[1] == "epoch   1 (step 200)  test_accuracy 75.00%"
    assert lines[2].startswith("step    200")


def test_close_prints_nothing_new_when_nothing_changed():
    view, out = _text_view()
    view.update(1.0)
    view.close()
    assert len(out.getvalue().splitlines()) == 1


def test_in_a_plain_process_it_chooses_text_and_never_imports_ipython():
    code = ("import sys, nn\n"
            "view = nn.LiveView()\n"
            "for k in range(1, 51): view.update(1.0 / k)\n"
            "view.close()\n"
            "print('IPython' in sys.modules, view.notebook)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("step      1  loss 1") and lines[1].startswith("step     50  loss 0.02")
    assert lines[-1] == "False False"
    assert "<svg" not in result.stdout


def test_import_nn_loads_the_view_and_the_training_command_only_when_used():
    code = ("import sys, nn\n"
            "lazy = ('nn.live', 'nn.train', 'nn.boundary', 'IPython', 'matplotlib', 'tqdm')\n"
            "print(sorted(m for m in lazy if m in sys.modules))\n"
            "print(nn.LiveView.__module__, nn.plot_decision_boundary.__module__, callable(nn.train))\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert result.stdout.splitlines() == ["[]", "nn.live nn.boundary True"]


def test_notebook_mode_outside_a_kernel_is_refused():
    with pytest.raises(RuntimeError, match="Jupyter kernel"):
        LiveView(mode="notebook")


# -- inside Jupyter: one output, updated in place ----------------------------------------------------


class _RecordingClient(nbclient.NotebookClient):
    """Keeps the type of every message the kernel sends while the cells run."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.messages: list[tuple[int, str]] = []

    def process_message(self, msg, cell, cell_index):
        shown = (msg["content"].get("data") or {}).get("text/plain", "")
        self.messages.append((cell_index, msg["msg_type"], shown))
        return super().process_message(msg, cell, cell_index)


def _run_notebook(cells: list[str], monkeypatch: pytest.MonkeyPatch, cwd: Path) -> tuple[nbformat.NotebookNode,
                                                                                           _RecordingClient]:
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src in cells])
    client = _RecordingClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(cwd)}})
    client.execute()
    return nb, client


def test_in_a_kernel_one_output_is_updated_in_place_and_keeps_the_final_state(monkeypatch, tmp_path):
    loop = ("import time\n"
            "from nn import LiveView\n"
            "view = LiveView(interval=0.05)\n"
            "for k in range(1, 41):\n"
            "    view.update(1.0 / k, lr=0.1)\n"
            "    time.sleep(0.01)\n")
    more = ("for k in range(41, 51):\n"  # a later cell goes on updating the first cell's output
            "    view.update(1.0 / k, lr=0.1)\n"
            "view.close()\n")
    nb, client = _run_notebook([loop, more], monkeypatch, tmp_path)
    outputs = nb.cells[0].outputs
    assert [o.output_type for o in outputs] == ["display_data"], outputs  # one output, however many steps
    sent = [(kind, shown) for cell, kind, shown in client.messages if kind.endswith("display_data")]
    assert [kind for kind, _ in sent] == ["display_data"] + ["update_display_data"] * (len(sent) - 1)
    # Redraws follow the steps: shown empty where it is made, drawn at step 1, then at most one per 0.05 s (more
    # apart on a busy machine: a redraw may take at most 1% of the time), the last step drawn at the first cell's
    # end and again at close().
    drawn = [int(shown.split(" ·")[0].removeprefix("step ")) for _, shown in sent]
    assert drawn[:2] == [0, 1] and 40 in drawn and drawn[-1] == 50 and drawn == sorted(drawn)
    assert len(sent) < 40  # not one message per step
    svg = outputs[0].data["image/svg+xml"]
    assert "step 50 ·" in svg and "loss 0.02 " in svg  # the final state, drawn at close() from the second cell
    assert ET.fromstring(svg).tag == f"{SVG}svg"
    assert outputs[0].data["text/plain"].startswith("step 50 ·")
    assert nb.cells[1].outputs == []


def test_the_end_of_the_cell_draws_the_last_step_without_close(monkeypatch, tmp_path):
    loop = ("from nn import LiveView\n"
            "view = LiveView(interval=60)\n"  # only the empty view and the first step are drawn during the loop
            "for k in range(1, 31):\n"
            "    view.update(float(k))\n")
    more = ("for k in range(31, 41):\n"  # a later cell: its end draws its last step too
            "    view.update(float(k))\n")
    nb, client = _run_notebook([loop, more], monkeypatch, tmp_path)
    (output,) = nb.cells[0].outputs
    assert "step 40 ·" in output.data["image/svg+xml"] and nb.cells[1].outputs == []
    sent = [(cell, kind, shown.split(" ·")[0]) for cell, kind, shown in client.messages
            if kind.endswith("display_data")]
    assert sent == [(0, "display_data", "step 0"), (0, "update_display_data", "step 1"),
                    (0, "update_display_data", "step 30"), (1, "update_display_data", "step 40")]


def test_nn_train_live_in_a_kernel_shows_the_view_instead_of_a_progress_bar(monkeypatch, tmp_path):
    run = ("import nn\n"
           f"result = nn.train(out={str(tmp_path / 'run')!r}, epochs=2, limit=256, hidden=[8], batch_size=64)\n"
           "print(result.history['test_accuracy'])\n")
    nb, _ = _run_notebook([run], monkeypatch, tmp_path)
    outputs = nb.cells[0].outputs
    displays = [o for o in outputs if o.output_type == "display_data"]
    assert len(displays) == 1 and set(displays[0].data) == {"image/svg+xml", "text/plain"}  # no tqdm widget
    svg = displays[0].data["image/svg+xml"]
    assert "MLP 784-8-10 · step 8 · epoch 2" in svg  # 256 images / 64 per batch = 4 steps per epoch
    assert "gradient norm per layer" in svg and "test_accuracy" in svg
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "epoch   2/2" in text and "final test accuracy" in text
