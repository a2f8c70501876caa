"""Metadata of pretrained weights: one small frozen dataclass per entry."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["PretrainedCfg"]


@dataclass(frozen=True)
class PretrainedCfg:
    """Where a set of weights lives and what it is.

    Weights are either installed files (``bundled`` is a folder inside the Python package
    ``package``: the wheel's own ``cgan_zoo/weights``, or a pip-installable weights
    package, see :mod:`cgan_zoo.weights`) or hosted on the Hugging Face Hub (``hub_id`` with a pinned
    ``revision``). Either way, ``sha256`` pins the exact ``model.safetensors``.

    Attributes:
        name: Full name ``"architecture.tag"``.
        architecture: Registered model name the weights belong to.
        sha256: Hex sha256 of ``model.safetensors``, or of ``model.safetensors.index.json``
            for sharded weights (the index pins every shard, see :mod:`cgan_zoo.sharded_weights`).
        license: SPDX licence of the weights.
        bundled: Folder holding ``config.json`` + ``model.safetensors`` inside the Python
            package ``package``.
        package: Python package whose files hold ``bundled`` (``"cgan_zoo.weights"`` for
            the weights in the wheel; a weights package's own module otherwise).
        source: Who registered the entry, for messages (``"cgan-zoo (bundled)"`` or the
            weights package's distribution, version and entry point).
        hub_id: Hub repo id, if hosted.
        revision: Pinned Hub commit sha (required with ``hub_id``).
        task: ``"colorize"``, ``"colorize-missing"`` or ``"generic"``.
        color_space: Colour space of inputs/outputs, for example ``"lab"``.
        input_size: Working resolution the model was trained at.
        training_data: Human-readable data sources (never local paths).
        description: One line for tables.
        metrics: Validation numbers from ``scripts/evaluate_pretrained.py``.
        training: Recipe file, steps, wall-clock CPU hours and storage dtype.

    Example:
        >>> cfg = PretrainedCfg(name="a.b", architecture="a", sha256="0" * 64, license="MIT", bundled="a.b")
        >>> cfg.tag
        'b'
    """

    name: str
    architecture: str
    sha256: str
    license: str
    bundled: str | None = None
    package: str = "cgan_zoo.weights"
    source: str = "cgan-zoo (bundled)"
    hub_id: str | None = None
    revision: str | None = None
    task: str = "colorize"
    color_space: str = "lab"
    input_size: int = 256
    training_data: str = ""
    description: str = ""
    metrics: dict[str, float] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)

    @property
    def tag(self) -> str:
        """The part of the name after the dot."""
        return self.name.split(".", 1)[1]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly copy."""
        return asdict(self)
