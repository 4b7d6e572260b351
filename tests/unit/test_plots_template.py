"""scripts/build_plots_template.sh builds a `dvc plots show` page template that works offline.

Runs the script in a throwaway git+dvc repo, points `plots.html_template` at its output and
checks the rendered index.html inlines vega/vega-lite/vega-embed instead of loading a CDN.
Needs npm (and the npm registry, or npm's cache) for the script's `npm pack`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "build_plots_template.sh"
TEMPLATE_REL = Path(".dvc") / "plots" / "offline_template.html"

pytestmark = [
    pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not on PATH: cannot npm pack vega"),
    pytest.mark.skipif(shutil.which("git") is None, reason="git is not on PATH: dvc init needs a git repo"),
]

REMOTE_SCRIPT_RE = re.compile(r"<script\b[^>]*\bsrc\s*=\s*[\"']?\s*(?:https?:)?//", re.IGNORECASE)
INLINED_RE = re.compile(
    r'<script type="text/javascript">/\* (vega|vega-lite|vega-embed)@(\d+)\.\d+\.\d+ build/\S+ \*/'
    r"(.*?)</script>",
    re.DOTALL,
)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["DVC_NO_ANALYTICS"] = "1"
    env.setdefault("GIT_AUTHOR_NAME", "test")
    env.setdefault("GIT_AUTHOR_EMAIL", "test@example.invalid")
    env.setdefault("GIT_COMMITTER_NAME", "test")
    env.setdefault("GIT_COMMITTER_EMAIL", "test@example.invalid")
    return env


def _run(cmd: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{cmd} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc


def _dvc(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # The interpreter running the tests is the project's venv: use its dvc.
    return _run([sys.executable, "-m", "dvc", *args], cwd=cwd)


def test_offline_plots_template(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _run(["git", "init", "-q"], cwd=repo)
    _dvc("init", "-q", cwd=repo)

    first = _run(["bash", str(SCRIPT)], cwd=repo)
    template = repo / TEMPLATE_REL
    assert template.is_file(), first.stdout + first.stderr
    text = template.read_text(encoding="utf8")
    assert "{plot_divs}" in text
    assert "{scripts}" not in text  # dvc-render would fill it with the CDN <script src=...> tags
    mtime = template.stat().st_mtime_ns

    # Second run: already complete, so a no-op.
    second = _run(["bash", str(SCRIPT)], cwd=repo)
    assert template.stat().st_mtime_ns == mtime
    assert "up to date" in second.stdout
    assert not list(template.parent.glob(".offline_template.html.*")), "temp file left behind"

    # Path is relative to .dvc/ (a wrong one fails with "has to contain '{plot_divs}'").
    _dvc("config", "plots.html_template", "plots/offline_template.html", cwd=repo)
    (repo / "loss.csv").write_text("epoch,loss\n0,1.25\n1,0.6125\n2,0.4375\n3,0.3125\n", encoding="utf8")
    (repo / "dvc.yaml").write_text("plots:\n  - loss.csv:\n      x: epoch\n      y: loss\n", encoding="utf8")

    out_dir = tmp_path / "plots_out"
    _dvc("plots", "show", "--out", str(out_dir), cwd=repo)
    html = (out_dir / "index.html").read_text(encoding="utf8")

    # Nothing loaded from the network.
    assert not REMOTE_SCRIPT_RE.search(html), REMOTE_SCRIPT_RE.search(html).group(0)
    assert "cdn.jsdelivr.net" not in html

    # The three libraries are inlined, each a real (large) minified build, vega 5 / vega-lite 5 / embed 6.
    inlined = {m.group(1): (int(m.group(2)), m.group(3)) for m in INLINED_RE.finditer(html)}
    assert set(inlined) == {"vega", "vega-lite", "vega-embed"}, sorted(inlined)
    assert inlined["vega"][0] == 5 and inlined["vega-lite"][0] == 5 and inlined["vega-embed"][0] == 6
    for name, (_, code) in inlined.items():
        assert len(code) > 40_000, f"{name} inlined code is only {len(code)} chars"
    assert "vegaEmbed" in inlined["vega-embed"][1]
    # Libraries come before the plot's script that calls vegaEmbed.
    assert html.index("/* vega-embed@") < html.index("vegaEmbed('#loss_csv'")

    # The plot itself: its div, a vega-lite spec and the CSV's data.
    assert 'id = "loss_csv"' in html
    assert "https://vega.github.io/schema/vega-lite/v5.json" in html  # $schema string, not a script src
    for value in ("1.25", "0.6125", "0.4375", "0.3125"):
        assert f'"loss": "{value}"' in html
