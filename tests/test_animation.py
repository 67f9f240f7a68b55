"""The backward pass as frames: BackwardAnimation, save_animation's page (in a real browser), step_through, and
save_html's static page.

The browser tests open the saved pages from files in headless Chromium through selenium: they move the slider,
zoom, pan and click a value to see its explain table. They skip only where Chromium or its WebDriver is not
installed.
"""
from __future__ import annotations

import builtins
import re
import shutil
import sys
from pathlib import Path

import pytest
from conftest import worked_neuron

from autograd import BackwardAnimation, Value, save_animation, save_html, step_through
from autograd.viz import palette


def neuron() -> Value:
    """The worked neuron: 9 edges, so 10 frames."""
    return worked_neuron()[0]


def test_one_frame_per_step_plus_the_start_with_captions_naming_the_numbers():
    o = neuron()
    anim = BackwardAnimation(o)
    assert len(anim.steps) == 9 and len(anim.frames) == 10 == len(anim.captions)
    assert all(f.lstrip().startswith("<?xml") and "<svg" in f for f in anim.frames)
    assert anim.captions[0] == "step 0 of 9: backward() starts at o with gradient 1"
    # step 1: tanh sends n 1 × (1 − o²) = 0.5
    assert anim.captions[1] == "step 1 of 9: o (tanh) sends n 1 × 0.5 = 0.5; now n.grad = 0.5"
    assert "grad ?" in anim.frames[0] and "grad 0.5 (+0.5)" in anim.frames[1]
    assert o.grad == 0.0  # drawing the frames ran no backward() on the graph


def test_every_frame_has_the_same_layout():
    anim = BackwardAnimation(neuron())
    sizes = {re.search(r'<svg width="([\d.]+pt)" height="([\d.]+pt)"', f).groups() for f in anim.frames}
    assert len(sizes) == 1, sizes
    boxes = [re.findall(r'<polygon fill="[^"]*" stroke="transparent" points="([^"]*)"', f) for f in anim.frames]
    assert all(b == boxes[0] for b in boxes)


def test_saved_page_is_self_contained(tmp_path: Path):
    path = save_animation(neuron(), tmp_path / "backprop.html")
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == 10
    # nothing is fetched: no external script, stylesheet, image or frame (SVG's xmlns are names, not fetches)
    assert not re.search(r'(?:src|href)\s*=\s*"(?:https?:)?//', page)
    assert "<link" not in page and "<iframe" not in page and "import(" not in page
    assert 'type="range"' in page and "<script>" in page
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save_animation(neuron(), tmp_path / "missing" / "x.html")
    with pytest.raises(TypeError, match=r"needs a Value or Tensor .*got float"):
        save_animation(neuron().data, tmp_path / "x.html")


def test_captions_and_frames_name_unlabelled_values_as_print_step_does():
    x = Value(0.5)
    y = (x * 2.0).tanh() + (x * 3.0).tanh()
    anim = BackwardAnimation(y)
    assert anim.captions[0] == "step 0 of 8: backward() starts at out with gradient 1"
    assert anim.captions[1] == "step 1 of 8: out (+) sends (tanh)#1 1 × 1 = 1; now (tanh)#1.grad = 1"
    assert all("a value" not in c and "the tanh node" not in c for c in anim.captions)
    assert [c.split(": ", 1)[1] for c in anim.captions[1:]] == [s.describe() for s in anim.steps]
    assert ">v1</text>" in anim.frames[0] and ">(tanh)#2</text>" in anim.frames[0]  # the boxes carry the same names


def test_a_hanging_dot_is_killed_and_named(tmp_path, monkeypatch):
    from autograd.viz import render

    script = tmp_path / "dot"
    script.write_text(f"#!{sys.executable}\nimport time\ntime.sleep(120)\n")
    script.chmod(0o755)
    monkeypatch.setattr(render, "DOT", str(script))
    with pytest.raises(RuntimeError, match=r"did not finish the 10 frames in 0\.5 s.*timeout="):
        BackwardAnimation(neuron(), timeout=0.5)


def test_too_many_steps_is_refused_with_the_count():
    x = Value(0.5)
    for _ in range(300):
        x = x.tanh()
    with pytest.raises(ValueError, match=r"300 steps.*max_steps=200"):
        BackwardAnimation(x)


def test_step_through_without_ipywidgets_says_what_to_install(monkeypatch, capsys):
    real_import = builtins.__import__

    def no_widgets(name, *args, **kwargs):
        if name == "ipywidgets" or name.startswith("ipywidgets."):
            raise ImportError("No module named 'ipywidgets'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_widgets)
    shown = step_through(neuron())
    out = capsys.readouterr().out
    assert "needs ipywidgets" in out and "pip install ipywidgets" in out and "save_animation" in out
    assert isinstance(shown, BackwardAnimation) and 'type="range"' in shown._repr_html_()


def test_step_through_with_ipywidgets_moves_through_the_frames():
    widgets = pytest.importorskip("ipywidgets")  # a dev dependency; skipped only where it is not installed
    box = step_through(neuron())
    assert isinstance(box, widgets.VBox)
    (_play, slider), view = box.children[0].children, box.children[1]
    assert slider.max == 9 and "step 0 of 9" in view.value
    slider.value = 1
    assert "step 1 of 9" in view.value and "grad 0.5 (+0.5)" in view.value


# -- in a real browser ------------------------------------------------------------------------------


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


@pytest.fixture
def browser():
    if CHROMIUM is None or DRIVER is None:
        pytest.skip("headless Chromium and chromedriver are not installed (apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1100,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def visible_frame(driver):
    (frame,) = [f for f in driver.find_elements("css selector", ".bp-frame") if f.is_displayed()]
    return frame


def highlighted_edges(frame) -> list[str]:
    """The titles (``tail->head``) of the edges drawn in the highlight colour."""
    edges = frame.find_elements("css selector", "g.edge")
    return [e.find_element("tag name", "title").get_attribute("textContent") for e in edges
            if e.find_elements("css selector", f'path[stroke="{palette.HIGHLIGHT}"]')]


def grad_texts(frame) -> list[str]:
    return sorted(t.get_attribute("textContent") for t in frame.find_elements("css selector", "text")
                  if t.get_attribute("textContent").startswith("grad"))


def test_the_saved_page_steps_through_in_a_browser(tmp_path: Path, browser):
    from selenium.webdriver.common.keys import Keys

    path = save_animation(neuron(), tmp_path / "backprop.html")
    browser.get(path.as_uri())
    slider = browser.find_element("css selector", ".bp-slider")
    assert slider.is_displayed()  # the script ran: controls shown, one frame at a time
    first = visible_frame(browser)
    assert first.get_attribute("data-step") == "0"
    assert highlighted_edges(first) == []
    assert grad_texts(first).count("grad ?") == 9  # only the root knows its gradient

    slider.send_keys(Keys.ARROW_RIGHT)  # to step 1: tanh → n
    second = visible_frame(browser)
    assert second.get_attribute("data-step") == "1"
    assert len(highlighted_edges(second)) == 1
    assert "grad 0.5 (+0.5)" in grad_texts(second) and grad_texts(second).count("grad ?") == 8

    browser.find_element("css selector", ".bp-next").click()  # to step 2: a different edge lights up
    third = visible_frame(browser)
    assert third.get_attribute("data-step") == "2"
    assert highlighted_edges(third) != highlighted_edges(second) and len(highlighted_edges(third)) == 1
    assert grad_texts(third) != grad_texts(second)

    browser.execute_script(
        "var s = arguments[0]; s.value = s.max; s.dispatchEvent(new Event('input'));", slider)
    last = visible_frame(browser)
    assert last.get_attribute("data-step") == "9" and "grad ?" not in grad_texts(last)
    assert browser.find_element("css selector", ".bp-counter").text == "9 / 9"


def view_box(driver) -> list[float]:
    svg = visible_frame(driver).find_element("css selector", "svg") if driver.find_elements(
        "css selector", ".bp-frame") else driver.find_element("css selector", ".bp-stage svg")
    return [float(x) for x in driver.execute_script("return arguments[0].getAttribute('viewBox')", svg).split()]


def test_the_saved_page_zooms_pans_and_explains_a_clicked_value(tmp_path: Path, browser):
    from selenium.webdriver.common.action_chains import ActionChains

    o = neuron()
    path = save_animation(o, tmp_path / "backprop.html")
    browser.get(path.as_uri())
    full = view_box(browser)
    browser.find_element("css selector", ".bp-in").click()
    zoomed = view_box(browser)
    assert zoomed[2] == pytest.approx(full[2] / 1.25) and zoomed[3] == pytest.approx(full[3] / 1.25)
    browser.find_element("css selector", ".bp-next").click()  # the zoom stays as the slider moves
    assert view_box(browser) == zoomed
    stage = browser.find_element("css selector", ".bp-stage")
    browser.execute_script("arguments[0].dispatchEvent(new WheelEvent('wheel', {deltaY: -100, clientX: 200, "
                           "clientY: 300, bubbles: true, cancelable: true}))", stage)
    assert view_box(browser)[2] < zoomed[2]  # the wheel zooms in further
    before = view_box(browser)
    ActionChains(browser).move_to_element(stage).click_and_hold().move_by_offset(60, 30).release().perform()
    panned = view_box(browser)
    assert panned[0] < before[0] and panned[1] < before[1] and panned[2] == before[2]  # dragged right and down
    browser.find_element("css selector", ".bp-fit").click()
    assert view_box(browser) == pytest.approx(full)
    # click x1's box: its explain table, as explain(x1, root=o) gives it, appears under the picture
    x1 = [g for g in visible_frame(browser).find_elements("css selector", "g.node")
          if "x1" in [t.get_attribute("textContent") for t in g.find_elements("tag name", "text")]]
    x1[0].click()
    panel = browser.find_element("css selector", ".bp-explain").text
    assert "∂o/∂x1" in panel and "(*)#1 = x1 * w1" in panel and "-1.5" in panel  # ∂o/∂x1 = 0.5 · w1, by hand


def test_save_html_writes_a_static_graph_that_zooms_and_explains(tmp_path: Path, browser):
    import random as stdlib_random

    from nn.data import make_moons
    from nn.moons import hinge_loss
    from nn.scalar import MLP

    o = neuron()
    o.backward()
    path = save_html(o, tmp_path / "graph.html", show_local=True)
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == 1
    assert not re.search(r'(?:src|href)\s*=\s*"(?:https?:)?//', page) and "<link" not in page
    browser.get(path.as_uri())
    full = view_box(browser)
    browser.find_element("css selector", ".bp-in").click()
    assert view_box(browser)[2] < full[2]
    browser.find_element("css selector", ".bp-fit").click()  # every box in view again, to click one
    n = [g for g in browser.find_elements("css selector", "g.node")
         if "n" in [t.get_attribute("textContent") for t in g.find_elements("tag name", "text")]]
    n[0].click()
    panel = browser.find_element("css selector", ".bp-explain").text
    assert "∂o/∂n" in panel and "0.5" in panel
    # a summarised graph: a group box says what it stands for
    stdlib_random.seed(0)
    X, y = make_moons(20, noise=0.1, rng=0)
    loss, _ = hinge_loss(MLP(2, [4, 1]), X, y)
    loss.backward()
    browser.get(save_html(loss, tmp_path / "moons.html").as_uri())
    group = [g for g in browser.find_elements("css selector", "g.node")
             if any(t.get_attribute("textContent").startswith("relu ×20") for t in g.find_elements("tag name", "text"))]
    group[0].click()
    assert "A group of 20 values" in browser.find_element("css selector", ".bp-explain").text
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save_html(o, tmp_path / "missing" / "x.html")
