"""The install instructions work today (from a clone, CPU build of torch as PyTorch documents
it), home-page code fits its box, and the docs build formats signatures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", ROOT / "docs" / "index.md", ROOT / "docs" / "quickstart.md"]
CPU_INDEX = "--index-url https://download.pytorch.org/whl/cpu"


def _code_blocks(text: str) -> list[str]:
    return re.findall(r"```(?:bash|shell|sh|python)?\n(.*?)```", text, flags=re.S)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_install_from_a_clone_and_cpu_build(page):
    text = page.read_text()
    commands = "\n".join(_code_blocks(text))
    # not published on PyPI yet: no `pip install cgan-zoo` / "cgan-zoo[extra]"
    assert not re.search(r"pip install \"?cgan-zoo", commands), page
    assert "git clone" in text
    assert CPU_INDEX in commands and "pip install torch torchvision" in commands


def test_home_page_code_is_not_cut_off():
    for block in _code_blocks((ROOT / "docs" / "index.md").read_text()):
        assert all(len(line) <= 90 for line in block.splitlines()), block


def test_docs_extra_has_a_signature_formatter():
    tomllib = pytest.importorskip("tomllib", reason="tomllib needs Python 3.11")
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert any(re.match(r"(ruff|black)\b", req) for req in extras["docs"])
    mkdocs = (ROOT / "mkdocs.yml").read_text()
    assert "separate_signature: true" in mkdocs and "stylesheets/extra.css" in mkdocs
    assert (ROOT / "docs" / "stylesheets" / "extra.css").is_file()


def test_model_zoo_page_has_no_issue_wording():
    assert "from the issue" not in (ROOT / "docs" / "model_zoo.md").read_text()
