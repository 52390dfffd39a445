"""JupyterLab in a real headless Chromium, used as a researcher would (issue 16).

Lab starts the way `make lab` starts it (``tradelab.notebooks.lab``: same command and environment,
from an environment that exports ``MPLBACKEND=Agg`` as the Makefile does), rooted at the repository's
``notebooks/``. For 00_data, 02_sac and 05_inference, in that order (each reads what the one before
wrote), the test drives Debian's chromium through chromium-driver:

1. opens the notebook at its Lab URL and waits for its kernel; autosave runs every 2 s here,
   and after it the file must be byte-identical (opening never dirties a notebook in git);
2. turns autosave off from the Settings menu and inserts a cell under the parameters cell with the
   smoke parameters and paths into the test's temp folder (what papermill's injected cell does);
3. runs Run > Run All Cells from the menu bar and waits for the kernel;
4. asserts: every code cell ran, no error output, at least one inline PNG in every plot cell, the
   kernel idle; screenshots each plot cell into the temp folder (``shots/``);
5. closes the notebook, discarding the changes.

At the end the repository's notebook files are unchanged and `git status` for them is as before.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tradelab.notebooks.lab import lab_command, lab_environment

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
INSTALL = ("JupyterLab browser test needs Debian's chromium and chromium-driver: "
           "`sudo apt-get install -y chromium chromium-driver` (.ci/run installs them when missing)")
#: Source fragments of cells that show a figure (each must show at least one inline image).
PLOT_CALLS = ("plt.show()", "_figure(")


def _overrides(work: Path) -> dict[str, str]:
    """Per notebook, the cell the test inserts under the parameters cell (smoke, paths into ``work``)."""
    data, sac = work / "data", work / "02_sac"
    return {
        "00_data": f'assets = ["EURUSD"]\nout_dir = "{data}"\noutput_dir = "{work / "00_data"}"\nsmoke = True',
        "02_sac": f'h5_path = "{data / "processed_data.h5"}"\nbuild_data_if_missing = False\n'
                  f'output_dir = "{sac}"\ndevice = "cpu"\nsmoke = True',
        "05_inference": f'checkpoint = "{sac / "agent_1_best.pt"}"\nh5_path = "{data / "processed_data.h5"}"\n'
                        f'output_dir = "{work / "05_inference"}"\nsmoke = True',
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _git_status(paths: list[Path]) -> str | None:
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        return None
    return subprocess.run(["git", "status", "--porcelain", "--", *map(str, paths)], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def lab(tmp_path):
    """A JupyterLab server started like `make lab`, on a loopback port; yields its base URL."""
    settings = tmp_path / "lab-settings" / "@jupyterlab"
    for plugin, values in (("docmanager-extension/plugin", {"autosave": True, "autosaveInterval": 2}),
                           ("apputils-extension/notification", {"fetchNews": "false", "checkForUpdates": False})):
        (settings / plugin).parent.mkdir(parents=True, exist_ok=True)  # the news prompt would cover screenshots
        (settings / f"{plugin}.jupyterlab-settings").write_text(json.dumps(values))
    port = _free_port()
    options = ["--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
               "--IdentityProvider.token=", "--ServerApp.password=", "--LabApp.expose_app_in_browser=True",
               f"--LabApp.user_settings_dir={tmp_path / 'lab-settings'}",
               f"--LabApp.workspaces_dir={tmp_path / 'lab-workspaces'}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        options.append("--allow-root")  # CI containers run as root; Lab refuses it otherwise
    env = lab_environment({**os.environ, "MPLBACKEND": "Agg"})  # as under `make lab`: make exports Agg
    log = (tmp_path / "lab.log").open("w")
    proc = subprocess.Popen(lab_command(NOTEBOOKS, options), env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start: {(tmp_path / 'lab.log').read_text()[-3000:]}")
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture
def browser(tmp_path):
    """Headless chromium through chromium-driver (Debian packages); a clear failure when absent."""
    missing = [p for p in (CHROMIUM, DRIVER) if not Path(p).is_file()]
    if missing:
        pytest.fail(f"{INSTALL}; missing {missing}")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("JupyterLab browser test needs selenium: .venv/bin/pip install -r requirements.txt")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,1000", f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(DRIVER, log_output=str(tmp_path / "chromedriver.log")), options=opts)
    try:
        yield driver
    finally:
        driver.quit()


# -- browser helpers: the UI does the work, the page's JupyterLab app (expose_app_in_browser) is read ----------------

#: The open notebook panel (headless chromium has no focus, so not ``shell.currentWidget``).
_PANEL_JS = """
const app = window.jupyterapp;
if (!app) return null;
const panels = Array.from(app.shell.widgets('main')).filter(w => w.content && w.content.widgets && w.sessionContext);
return panels.length ? panels[panels.length - 1] : null;
"""
_FIND = "const w = (() => {" + _PANEL_JS + "})();"

_STATE_JS = _FIND + """
if (!w) return null;
const kernel = w.sessionContext.session && w.sessionContext.session.kernel;
const cells = w.content.widgets.map(c => {
  const m = c.model, outs = [];
  if (m.type === 'code') for (let i = 0; i < m.outputs.length; i++) {
    const o = m.outputs.get(i).toJSON();
    outs.push({type: o.output_type, mimes: Object.keys(o.data || {}), text: JSON.stringify(o).slice(0, 400)});
  }
  return {type: m.type, source: m.sharedModel.getSource(), count: m.type === 'code' ? m.executionCount : null,
          running: m.type === 'code' && m.executionState === 'running', outputs: outs};
});
return {path: w.context.path, dirty: w.context.model.dirty, kernel: kernel ? kernel.status : null,
        kernel_name: w.sessionContext.kernelDisplayName, cells: cells};
"""


def _state(driver) -> dict | None:
    return driver.execute_script(_STATE_JS)


def _wait(what: str, check, timeout: float, driver):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.25)
    shot = getattr(driver, "failure_png", None)
    if shot:
        driver.save_screenshot(str(shot))
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what} (screenshot: {shot}); "
                f"page state: {json.dumps(_state(driver))[:2000]}")


def _menu(driver, menu: str, label: str) -> None:
    """Click ``menu`` in the menu bar, then its item ``label``."""
    from selenium.webdriver.common.by import By

    driver.find_element(By.XPATH, f"//li[contains(@class,'lm-MenuBar-item')][.//div[text()='{menu}']]").click()
    xpath = f"//ul[contains(@class,'lm-Menu-content')]/li[.//div[contains(@class,'lm-Menu-itemLabel')][starts-with(text(), '{label}')]]"
    item = _wait(f"menu item {menu} > {label}", lambda: driver.find_elements(By.XPATH, xpath), 10, driver)
    item[0].click()


def _open(driver, lab: str, name: str) -> dict:
    """Open ``notebooks/NAME.ipynb`` by its Lab URL (the link `make lab` prints points there) and wait for its kernel."""
    driver.get(f"{lab}/lab/tree/{name}.ipynb")
    return _wait(f"{name}: kernel idle", lambda: (s := _state(driver)) and s["path"] == f"{name}.ipynb"
                 and s["kernel"] == "idle" and s, 90, driver)


def _set_autosave(driver, on: bool) -> None:
    """Settings > Autosave Documents (a toggle, kept in Lab's settings) until it is ``on``."""
    js = "return window.jupyterapp.commands.isToggled('docmanager:toggle-autosave')"
    if driver.execute_script(js) != on:
        _menu(driver, "Settings", "Autosave Documents")
    _wait(f"autosave {'on' if on else 'off'}", lambda: driver.execute_script(js) == on, 10, driver)


def _insert_parameters(driver, text: str) -> None:
    """Select the parameters cell, `b` (insert below), type ``text`` into the new cell, Escape."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    cells = driver.find_elements(By.CSS_SELECTOR, ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell")
    params = next(c for c in cells if "jp-mod-noOutputs" in c.get_attribute("class")
                  and "parameters" in driver.execute_script(
                      _FIND + "const i = w.content.widgets.findIndex(c => c.node === arguments[0]);"
                      "return JSON.stringify(w.content.widgets[i].model.getMetadata('tags') || []);", c))
    prompt = params.find_element(By.CSS_SELECTOR, ".jp-InputPrompt")
    ActionChains(driver).click(prompt).send_keys(Keys.ESCAPE).send_keys("b").send_keys(Keys.ENTER).perform()
    time.sleep(0.3)
    chain = ActionChains(driver)
    for i, line in enumerate(text.split("\n")):
        if i:
            chain.send_keys(Keys.ENTER)
        chain.send_keys(line)
    chain.send_keys(Keys.ESCAPE).perform()


def _close_discarding(driver, name: str) -> None:
    from selenium.webdriver.common.by import By

    _menu(driver, "File", "Close and Shut Down Notebook")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        state = _state(driver)
        if state is None or state["path"] != f"{name}.ipynb":
            return
        for button in driver.find_elements(By.CSS_SELECTOR, ".jp-Dialog button"):
            if button.text.strip().lower() in ("ok", "shut down", "discard", "close", "don't save"):
                button.click()
                break
        time.sleep(0.3)
    dialogs = [d.text for d in driver.find_elements(By.CSS_SELECTOR, ".jp-Dialog")]
    driver.save_screenshot(str(driver.failure_png))
    pytest.fail(f"{name}: could not close the notebook (dialogs: {dialogs}; screenshot {driver.failure_png})")


def _screenshot_cell(driver, index: int, path: Path) -> None:
    node = driver.execute_script(
        _FIND + "const n = w.content.widgets[arguments[0]].node;"
        "n.scrollIntoView({block: 'start'}); return n;", index)
    time.sleep(0.4)
    path.write_bytes(base64.b64decode(node.screenshot_as_base64))


def _run_notebook(driver, name: str, overrides: str, shots: Path) -> dict:
    """Steps 2-5 of the module docstring for one open notebook; returns its final page state."""
    _set_autosave(driver, False)  # the run's outputs must not be saved
    _insert_parameters(driver, overrides)
    injected = _state(driver)["cells"]
    assert any(c["source"] == overrides for c in injected), (
        f"{name}: the typed parameters cell reads differently: {[c['source'] for c in injected][:4]}")
    _menu(driver, "Run", "Run All Cells")
    t0 = time.monotonic()

    def finished():
        s = _state(driver)
        code = [c for c in s["cells"] if c["type"] == "code"]
        done = s["kernel"] == "idle" and not any(c["running"] for c in code)
        if done and (all(c["count"] is not None for c in code) or any(
                o["type"] == "error" for c in code for o in c["outputs"])):
            return s
        return None

    state = _wait(f"{name}: Run All Cells to finish", finished, 240, driver)
    code = [(i, c) for i, c in enumerate(state["cells"]) if c["type"] == "code"]
    errors = [o["text"] for _, c in code for o in c["outputs"] if o["type"] == "error"]
    assert not errors, f"{name}: error output(s) in the browser: {errors}"
    assert all(c["count"] is not None for _, c in code), f"{name}: cells not run: {[i for i, c in code if c['count'] is None]}"
    assert state["kernel"] == "idle"
    plots = [(i, c) for i, c in code if any(call in c["source"] for call in PLOT_CALLS)]
    assert plots, f"{name}: no plot cell found (PLOT_CALLS {PLOT_CALLS})"
    blank = [i for i, c in plots if not any("image/png" in o["mimes"] for o in c["outputs"])]
    assert not blank, (f"{name}: plot cell(s) {blank} show no inline image (MPLBACKEND leaked into the kernel?): "
                       f"{[[o['text'] for o in state['cells'][i]['outputs']] for i in blank]}")
    for i, _ in plots:
        _screenshot_cell(driver, i, shots / f"{name}_cell{i}.png")
    driver.save_screenshot(str(shots / f"{name}_page.png"))
    state["seconds"] = round(time.monotonic() - t0, 1)
    return state


def test_notebooks_run_from_jupyterlab_in_chromium(browser, lab, tmp_path):
    names = ["00_data", "02_sac", "05_inference"]
    files = [NOTEBOOKS / f"{n}.ipynb" for n in names]
    before = {p: p.read_bytes() for p in files}
    status_before = _git_status(files)
    shots = tmp_path / "shots"
    shots.mkdir()
    browser.failure_png = shots / "failure.png"
    overrides = _overrides(tmp_path / "work")
    browser.get(f"{lab}/lab?reset")
    _wait("JupyterLab to load", lambda: browser.execute_script("return !!window.jupyterapp"), 60, browser)
    timings = {}
    try:
        for name, path in zip(names, files):
            opened = _open(browser, lab, name)
            assert opened["kernel_name"] == "Python 3 (tradelab)", f"{name}: Lab picked {opened['kernel_name']!r}"
            _set_autosave(browser, True)
            time.sleep(5)  # > 2 autosave intervals: the kernel's language_info reached the model and was saved
            assert _digest(path) == hashlib.sha256(before[path]).hexdigest(), (
                f"{name}: opening it in JupyterLab changed the file (autosave): git would show it modified")
            state = _run_notebook(browser, name, overrides[name], shots)
            timings[name] = state["seconds"]
            if name == "00_data":
                text = " ".join(o["text"] for c in state["cells"] for o in c["outputs"])
                assert "BokehJS" not in text and "Bokeh output" not in text, "backtesting's Bokeh notice is back"
            _close_discarding(browser, name)
    finally:
        changed = [p for p in files if p.read_bytes() != before[p]]
        for p in changed:  # never leave a researcher's notebook rewritten by a test; the assert below still fails
            p.write_bytes(before[p])
        print(f"screenshots: {shots}; seconds per notebook: {timings}")
    assert not changed, f"the browser session rewrote {[p.name for p in changed]}"
    assert _git_status(files) == status_before
    assert (tmp_path / "work" / "05_inference" / "metrics.json").is_file()
