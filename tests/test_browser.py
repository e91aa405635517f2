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

# The explorer as a learner meets it in notebook 03: the shipped DCGAN, then a slider value
# set from code (the front end used to send its own rounded value back over it).
EXPLORER_CELLS = [
    "from ganlib import tutorial  # as in the notebooks: TensorFlow starts quietly\n"
    "from ganlib import explore, modes\n"
    "run = modes.load_shipped('dcgan')\n"
    "explorer = explore.LatentExplorer(run.gan.generator, run.card)\n"
    "explorer",
    "explorer.sliders[0].value = 2.5",
    "print('slider', explorer.sliders[0].value)",
]


def free_port():
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on a fresh folder and a headless Chromium; yields (browser, url, folder)."""
    folder = tmp_path_factory.mktemp("lab")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in EXPLORER_CELLS]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    nbformat.write(notebook, folder / "explorer.ipynb")
    # The committed notebook, copied so the browser can never write to the repository's.
    shutil.copy(os.path.join(ROOT, "notebooks", "03_dcgan.ipynb"), folder / "committed.ipynb")

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


@pytest.fixture(scope="module")
def explorer_page(lab):
    """The test notebook, run top to bottom in the browser (Run All), settled."""
    browser, url, _ = lab
    open_notebook(browser, url, "explorer.ipynb")
    wait_until(lambda: browser.execute_script(
        "const app = window.jupyterapp; const panel = app && app.shell.currentWidget;"
        "return !!(panel && panel.sessionContext && panel.sessionContext.session"
        " && panel.sessionContext.session.kernel"
        " && panel.sessionContext.session.kernel.status === 'idle');"),
        what="the kernel to start")
    browser.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells');")
    wait_until(lambda: picture_fingerprint(browser), seconds=180, what="the explorer's picture")
    # Let the front end answer every change the kernel sent (the overwrite bug came late).
    wait_until(lambda: slider_readout(browser) == "2.50", seconds=30,
               what="slider z[0] to show 2.50")
    time.sleep(3)
    return browser


def test_picture_is_square_at_its_size(explorer_page):
    """The picture keeps its 168 x 168 box beside the taller column of sliders."""
    box = picture_fingerprint(explorer_page)
    assert abs(box["width"] - PICTURE_PIXELS) <= 1 and abs(box["height"] - PICTURE_PIXELS) <= 1, box


def test_value_set_from_code_survives_the_front_end(explorer_page):
    """z[0] = 2.5 from code still reads 2.5 in the browser and in the kernel once both settle."""
    browser = explorer_page
    assert slider_readout(browser) == "2.50"
    last_cell = browser.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-CodeCell")[-1]
    last_cell.find_element(By.CSS_SELECTOR, ".jp-InputArea-editor").click()
    last_cell.find_element(By.CSS_SELECTOR, ".cm-content").send_keys(Keys.SHIFT, Keys.ENTER)
    printed = wait_until(lambda: [element.text for element in last_cell.find_elements(
        By.CSS_SELECTOR, ".jp-OutputArea-output") if "slider" in element.text],
        seconds=60, what="the kernel's slider value")
    assert printed[0].strip() == "slider 2.5", printed


def test_keyboard_moves_a_slider_and_the_picture(explorer_page):
    """Arrow keys on a slider's handle change its value, and the picture follows."""
    browser = explorer_page
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


def test_committed_notebook_shows_the_picture_before_it_is_trusted(lab):
    """Opened from disk (untrusted, no kernel run), the explorer's output is a picture, not text."""
    browser, url, folder = lab
    open_notebook(browser, url, "committed.ipynb")
    notebook = json.loads((folder / "committed.ipynb").read_text())
    explorer_cells = [index for index, cell in enumerate(notebook["cells"])
                      if cell["cell_type"] == "code" and "LatentExplorer(" in "".join(cell["source"])]
    assert explorer_cells, "notebook 03 has no explorer cell"

    def explorer_output_images():
        cells = browser.find_elements(
            By.CSS_SELECTOR, ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell")
        if len(cells) <= explorer_cells[0]:
            return None
        cell = cells[explorer_cells[0]]
        browser.execute_script("arguments[0].scrollIntoView();", cell)
        # The saved PNG (a widget needs a trusted notebook and a kernel).
        images = cell.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output.jp-RenderedImage img")
        return [image for image in images
                if browser.execute_script("return arguments[0].naturalWidth;", image) > 0]

    images = wait_until(explorer_output_images, seconds=60, what="the explorer's saved picture")
    assert images[0].size["width"] >= 100
