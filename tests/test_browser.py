"""The latent explorer in a real browser: JupyterLab in headless Chromium, driven by keyboard.

What a learner sees is decided in the browser, not in the kernel: how the picture is laid
out, whether the front end sends a slider's value back over one set from code, what a saved
notebook shows before it is trusted. These tests open JupyterLab the way a learner does and
check each. They need Debian's `chromium` and `chromium-driver` (.ci/run installs them) and
the `selenium` package (the test extra); without them they are skipped.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time

import nbformat
import pytest

from tests.conftest import ROOT

selenium = pytest.importorskip("selenium")
from selenium import webdriver  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)")

TOKEN = "ganlib-browser-test"
PICTURE_PIXELS = 168  # ganlib.explore.PICTURE_PIXELS, read without importing TensorFlow here
NOTEBOOK = "03_dcgan.ipynb"  # explore mode, as committed: the shipped DCGAN, no training


def free_port():
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on a copy of notebook 03 and a headless Chromium; yields (browser, url, folder)."""
    folder = tmp_path_factory.mktemp("lab")
    # A copy, so the browser can never write to the repository's notebook.
    shutil.copy(os.path.join(ROOT, "notebooks", NOTEBOOK), folder / NOTEBOOK)

    port = free_port()
    private = tmp_path_factory.mktemp("jupyter")
    # A private data folder also means an empty trust database: notebooks open untrusted, as
    # they do for a learner who has just cloned the repository.
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(private / "runtime"),
           "JUPYTER_DATA_DIR": str(private / "data"),
           "JUPYTER_CONFIG_DIR": str(private / "config"), "TF_CPP_MIN_LOG_LEVEL": "3",
           "PYTHONPATH": ROOT}
    env.pop("GANLIB_QUICK", None)  # explore mode: the shipped generator, no training
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}",
         "--ip=127.0.0.1", f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={folder}",
         f"--LabApp.workspaces_dir={private}", "--LabApp.news_url=None",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         "--LabApp.expose_app_in_browser=True", "--allow-root"],
        env=env, stdout=subprocess.DEVNULL, stderr=open(private / "server.log", "w"))
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--window-size=1400,1000"):
        options.add_argument(argument)
    browser = webdriver.Chrome(service=webdriver.ChromeService(executable_path=CHROMEDRIVER),
                               options=options)
    try:
        wait_for_server(port)
        yield browser, f"http://127.0.0.1:{port}", folder
    finally:
        browser.quit()
        server.terminate()
        server.wait(timeout=30)


def wait_for_server(port, seconds=60):
    """Block until the server accepts connections."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    raise AssertionError(f"JupyterLab did not start on port {port} within {seconds} s")


def wait_until(condition, seconds=120, what="the page"):
    """Poll `condition()` until it returns something truthy; return that."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


def open_notebook(browser, url, name):
    """Open a notebook in JupyterLab and wait until its cells are on the page."""
    browser.get(f"{url}/lab/tree/{name}?token={TOKEN}")
    wait_until(lambda: browser.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-Cell"),
               what=f"{name} to open")


def picture_fingerprint(browser):
    """The explorer picture's pixels as a string (decoded by the browser), and its box."""
    return browser.execute_script("""
        const img = document.querySelector('.jp-Notebook .widget-image');
        if (!img || !img.complete || img.naturalWidth === 0) return null;
        const canvas = document.createElement('canvas');
        canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
        const context = canvas.getContext('2d');
        context.drawImage(img, 0, 0);
        const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
        let sum = 0, weighted = 0;
        for (let i = 0; i < pixels.length; i += 4) { sum += pixels[i]; weighted += pixels[i] * (i % 9973); }
        const box = img.getBoundingClientRect();
        return {pixels: sum + ':' + weighted, width: box.width, height: box.height};
    """)


def slider_readout(browser, index=0):
    """The value a slider shows next to it, as text (with an ASCII minus sign)."""
    readouts = browser.find_elements(By.CSS_SELECTOR, ".jp-Notebook .widget-slider .widget-readout")
    # The readout prints negatives with U+2212, the typographic minus.
    return readouts[index].text.replace("\u2212", "-") if len(readouts) > index else None


def saved_explorer_pictures(browser, explorer_cell):
    """The plain PNG outputs of the explorer's cell (what shows without a live widget)."""
    cells = browser.find_elements(
        By.CSS_SELECTOR, ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell")
    if len(cells) <= explorer_cell:
        return None
    cell = cells[explorer_cell]
    browser.execute_script("arguments[0].scrollIntoView();", cell)
    images = cell.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output.jp-RenderedImage img")
    return [image for image in images
            if browser.execute_script("return arguments[0].naturalWidth;", image) > 0]


def kernel_idle(browser):
    """True once the open notebook's kernel has started and is idle."""
    return browser.execute_script(
        "const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
        "const kernel = panel && panel.sessionContext && panel.sessionContext.session"
        " && panel.sessionContext.session.kernel;"
        "return !!(kernel && kernel.status === 'idle');")


def type_new_cell(browser, code, run=True):
    """Below the last cell, a new cell typed from the keyboard (Esc, B, Enter), run with Shift+Enter."""
    cells = browser.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-Cell")
    cells[-1].find_element(By.CSS_SELECTOR, ".jp-InputArea-prompt").click()
    actions = webdriver.ActionChains(browser)
    actions.send_keys(Keys.ESCAPE, "b", Keys.ENTER).pause(0.5).send_keys(code)
    if run:
        actions.key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT)
    else:
        actions.send_keys(Keys.ESCAPE)
    actions.perform()
    return browser.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-Cell")[len(cells)]


@pytest.fixture(scope="module")
def notebook_page(lab):
    """Notebook 03 opened untrusted (its saved picture noted), a cell added, Run All (explore)."""
    browser, url, folder = lab
    notebook = json.loads((folder / NOTEBOOK).read_text())
    explorer_cells = [index for index, cell in enumerate(notebook["cells"])
                      if cell["cell_type"] == "code"
                      and "LatentExplorer(" in "".join(cell["source"])]
    assert explorer_cells, f"{NOTEBOOK} has no explorer cell"
    open_notebook(browser, url, NOTEBOOK)
    saved = wait_until(lambda: saved_explorer_pictures(browser, explorer_cells[0]), seconds=60,
                       what="the explorer's saved picture")
    saved_width = saved[0].size["width"]

    wait_until(lambda: kernel_idle(browser), what="the kernel to start")
    # A value set from code in the same Run All that displays the explorer: the browser's
    # new slider view used to send its first value back over it.
    type_new_cell(browser, "explorer.sliders[0].value = 2.5", run=False)
    browser.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells');")
    # Run All clears every output first, so a live picture now comes from the kernel.
    wait_until(lambda: picture_fingerprint(browser), seconds=240,
               what="the explorer's live picture")
    wait_until(lambda: kernel_idle(browser), seconds=240, what="Run All to finish")
    time.sleep(2)  # the front end's own answers to the widgets' first states
    return browser, saved_width


def test_saved_notebook_shows_the_explorer_picture_before_it_is_trusted(notebook_page):
    """Opened from disk (untrusted, no kernel), the explorer's output is a picture, not text."""
    _, saved_width = notebook_page
    assert saved_width >= 100


def test_picture_is_square_at_its_size(notebook_page):
    """The picture keeps its 168 x 168 box beside the taller column of sliders."""
    box = picture_fingerprint(notebook_page[0])
    assert abs(box["width"] - PICTURE_PIXELS) <= 1 and abs(box["height"] - PICTURE_PIXELS) <= 1, box


def test_keyboard_moves_a_slider_and_the_picture(notebook_page):
    """Arrow keys on a slider's handle change its value, and the picture follows."""
    browser = notebook_page[0]
    before = picture_fingerprint(browser)["pixels"]
    handle = browser.find_elements(By.CSS_SELECTOR, ".jp-Notebook .widget-slider .noUi-handle")[1]
    readout_before = slider_readout(browser, 1)
    handle.click()
    for _ in range(10):  # ten steps of 0.1: a visible move in z[1]
        handle.send_keys(Keys.ARROW_RIGHT)
    wait_until(lambda: slider_readout(browser, 1) != readout_before, seconds=30,
               what="slider z[1] to move")
    after = wait_until(lambda: (picture_fingerprint(browser) or {}).get("pixels") != before
                       and picture_fingerprint(browser), seconds=30,
                       what="the picture to change")
    assert after["pixels"] != before
    assert float(slider_readout(browser, 1)) > float(readout_before)


def test_value_set_from_code_survives_the_front_end(notebook_page):
    """z[0] = 2.5, run with the rest (Run All), reads 2.5 in the browser and in the kernel."""
    browser = notebook_page[0]
    assert slider_readout(browser) == "2.50"
    cell = type_new_cell(browser, "print('slider', explorer.sliders[0].value)")
    printed = wait_until(lambda: [element.text for element in cell.find_elements(
        By.CSS_SELECTOR, ".jp-OutputArea-output") if "slider" in element.text],
        seconds=60, what="the kernel's slider value")
    assert printed[0].strip() == "slider 2.5", printed
    assert slider_readout(browser) == "2.50"
