"""Every public name has a docstring with the sections the API reference relies on.

The public names are the ``__all__`` of ``cgan_zoo`` and of its documented modules.
Classes and functions need a docstring with an ``Example:`` section holding a doctest
(``pytest --doctest-modules`` runs it); those involving tensors (``nn.Module``
subclasses, and functions whose signature mentions ``Tensor``) also need a ``Shape:``
section. Every public name, constants included, must appear in the API reference
(``::: path`` in ``docs/api/*.md``).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
from pathlib import Path

import pytest
import torch

MODULES = [
    "cgan_zoo",
    "cgan_zoo.losses",
    "cgan_zoo.data",
    "cgan_zoo.training",
    "cgan_zoo.pipelines",
    "cgan_zoo.pipelines.temporal",
    "cgan_zoo.pipelines.video_io",
    "cgan_zoo.metrics",
    "cgan_zoo.evaluation",
    "cgan_zoo.color",
    "cgan_zoo.color_bins",
    "cgan_zoo.weights",
    "cgan_zoo.weights.packaging",
    "cgan_zoo.export",
    "cgan_zoo.serialization",
    "cgan_zoo.errors",
    "cgan_zoo.convert",
    "cgan_zoo.tasks",
    "cgan_zoo.models.base",
]
API_DOCS = Path(__file__).resolve().parents[1] / "docs" / "api"


def _public() -> list[tuple[str, str, object]]:
    names = []
    for module_name in MODULES:
        if importlib.util.find_spec(module_name) is None:  # an optional module not shipped
            continue
        module = importlib.import_module(module_name)
        names += [(module_name, name, getattr(module, name)) for name in module.__all__]
    return names


PUBLIC = _public()
ROUTINES = [(m, n, o) for m, n, o in PUBLIC if inspect.isclass(o) or inspect.isfunction(o)]
IDS = [f"{m}.{n}" for m, n, _ in ROUTINES]


def _doc(obj: object) -> str:
    return inspect.cleandoc(obj.__doc__ or "")


def _section(doc: str, *titles: str) -> str | None:
    """The body of the first Google-style section called one of ``titles``, or None."""
    lines = doc.splitlines()
    for i, line in enumerate(lines):
        if line.strip() in {f"{t}:" for t in titles}:
            indent = len(line) - len(line.lstrip())
            body = []
            for nxt in lines[i + 1 :]:
                if nxt.strip() and len(nxt) - len(nxt.lstrip()) <= indent:
                    break
                body.append(nxt)
            return "\n".join(body)
    return None


def _involves_tensors(obj: object) -> bool:
    if inspect.isclass(obj):
        return issubclass(obj, torch.nn.Module)
    try:
        signature = str(inspect.signature(obj))  # annotations are strings or types
    except (TypeError, ValueError):
        return False
    return re.search(r"\bTensor\b", signature) is not None


def test_there_are_public_names():
    assert len(ROUTINES) > 50 and len(TENSOR_ROUTINES) > 20


@pytest.mark.parametrize(("module", "name", "obj"), ROUTINES, ids=IDS)
def test_has_docstring(module, name, obj):
    assert obj.__doc__ and obj.__doc__.strip(), f"{module}.{name} has no docstring"


@pytest.mark.parametrize(("module", "name", "obj"), ROUTINES, ids=IDS)
def test_has_runnable_example(module, name, obj):
    body = _section(_doc(obj), "Example", "Examples")
    assert body is not None, f"{module}.{name} has no 'Example:' section"
    assert ">>>" in body, f"the Example of {module}.{name} is not a doctest"


TENSOR_ROUTINES = [(m, n, o) for m, n, o in ROUTINES if _involves_tensors(o)]


@pytest.mark.parametrize(
    ("module", "name", "obj"), TENSOR_ROUTINES, ids=[f"{m}.{n}" for m, n, _ in TENSOR_ROUTINES]
)
def test_tensor_api_has_shape_section(module, name, obj):
    body = _section(_doc(obj), "Shape")
    assert body and body.strip(), f"{module}.{name} involves tensors but has no 'Shape:' section"


def _documented() -> tuple[set[str], set[int]]:
    """Identifiers rendered by ``::: identifier`` in the API pages, and the ids of their objects."""
    paths, objects = set(), set()
    for page in API_DOCS.glob("*.md"):
        for path in re.findall(r"^:::\s*(\S+)", page.read_text(encoding="utf-8"), flags=re.M):
            paths.add(path)
            module_name, _, attr = path.rpartition(".")
            try:
                objects.add(id(getattr(importlib.import_module(module_name), attr)))
            except (ImportError, AttributeError, ValueError):
                pass
    return paths, objects


def test_api_reference_lists_every_public_name():
    paths, objects = _documented()
    missing = [
        f"{m}.{n}"
        for m, n, obj in PUBLIC
        if f"{m}.{n}" not in paths
        and not ((inspect.isclass(obj) or inspect.isfunction(obj)) and id(obj) in objects)
    ]
    assert not missing, f"not in docs/api/*.md: {missing}"


def test_api_reference_names_resolve():
    for page in API_DOCS.glob("*.md"):
        for path in re.findall(r"^:::\s*(\S+)", page.read_text(encoding="utf-8"), flags=re.M):
            if path in MODULES:
                continue  # a module page
            module_name, _, attr = path.rpartition(".")
            assert hasattr(importlib.import_module(module_name), attr), (
                f"{page.name}: {path} does not exist"
            )
