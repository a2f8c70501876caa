"""Hugging Face Hub integration: strict, safetensors-only save and load.

Every model in cgan-zoo subclasses :class:`HubModel`, which builds on
``huggingface_hub.PyTorchModelHubMixin`` and closes its two traps:

* Constructor arguments that are not JSON-serialisable would be silently dropped
  from ``config.json``; here saving refuses them instead.
* Loading would be non-strict and could fall back to a pickle ``.bin``; here it is
  strict, reads ``model.safetensors`` only, and validates the file first.

``config.json`` records the class name, so one ``HubModel.from_pretrained`` call
dispatches to the right architecture.
"""

from __future__ import annotations

import inspect
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, TypeVar, cast

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from ._version import __version__
from .errors import InvalidConfigError, WeightsError
from .serialization import (
    atomic_write_bytes,
    load_state_dict_strict,
    save_safetensors,
)
from .sharded_weights import SHARD_INDEX_NAME, load_weights_file

__all__ = ["HubModel", "resolve_model_files", "model_classes", "CONFIG_NAME", "WEIGHTS_NAME"]

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
CLASS_KEY = "_class_name"
T = TypeVar("T", bound="HubModel")

_MODEL_CLASSES: dict[str, type[HubModel]] = {}


def model_classes() -> dict[str, type[HubModel]]:
    """Every known :class:`HubModel` subclass by name, the built-in ones imported first.

    The model modules load lazily (``import cgan_zoo`` does not import torch), so the
    built-in classes register here on first need.

    Example:
        >>> "UNetGenerator" in model_classes()
        True
    """
    from .models import (  # noqa: F401  (importing registers them)
        MultiScaleDiscriminator,
        PatchDiscriminator,
        ResnetGenerator,
        TimmUNet,
        UNetGenerator,
    )

    return _MODEL_CLASSES


def resolve_model_files(
    name_or_path: str | os.PathLike,
    *,
    revision: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    local_files_only: bool = False,
    token: str | bool | None = None,
) -> tuple[Path, Path]:
    """Find ``config.json`` and ``model.safetensors`` in a local folder or a Hub repo.

    A Hub id is resolved with ``huggingface_hub.hf_hub_download``, which honours
    ``HF_HUB_OFFLINE=1`` and the local cache, so pinned revisions work offline once cached.

    Returns:
        ``(config_path, weights_path)``.

    Raises:
        WeightsError: If the folder or repo lacks either file.
    """
    path = Path(name_or_path)
    if path.is_dir():
        config, weights = path / CONFIG_NAME, path / WEIGHTS_NAME
        if not weights.is_file() and (path / SHARD_INDEX_NAME).is_file():
            weights = path / SHARD_INDEX_NAME  # sharded weights (cgan_zoo.sharded_weights)
        if not config.is_file() or not weights.is_file():
            others = sorted(p.name for p in path.iterdir())
            raise WeightsError(
                f"folder {str(path)!r} must contain {CONFIG_NAME} and {WEIGHTS_NAME} (found {others}). "
                "cgan-zoo loads safetensors only; save models with model.save_pretrained(folder)."
            )
        return config, weights
    if path.exists() or str(name_or_path).count("/") != 1:
        raise WeightsError(
            f"{str(name_or_path)!r} is neither a folder made by save_pretrained nor a Hub repo id "
            "of the form 'owner/name'. Use cgan_zoo.list_pretrained() for bundled weights."
        )
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    files = []
    for filename in (CONFIG_NAME, WEIGHTS_NAME):
        try:
            files.append(
                Path(
                    hf_hub_download(
                        repo_id=str(name_or_path),
                        filename=filename,
                        revision=revision,
                        cache_dir=None if cache_dir is None else str(cache_dir),
                        local_files_only=local_files_only,
                        token=token,
                    )
                )
            )
        except LocalEntryNotFoundError as exc:
            raise WeightsError(
                f"{filename} of Hub repo {str(name_or_path)!r} (revision {revision or 'main'}) is not in "
                "the local cache and cannot be downloaded (offline?). Download it once with network "
                "access, or pass a local folder."
            ) from exc
        except (HfHubHTTPError, OSError, ValueError) as exc:
            raise WeightsError(
                f"could not fetch {filename} from Hub repo {str(name_or_path)!r}: {exc}"
            ) from exc
    return files[0], files[1]


#: the ``README.md`` that ``save_pretrained`` writes: only facts known at save time
MODEL_CARD_TEMPLATE = """---
{{ card_data }}
---

# {{ model_class }}

A `{{ model_class }}` with {{ parameters }} parameters, saved by
[cgan-zoo]({{ repo_url }}) {{ version }} with `save_pretrained`. The folder holds
`config.json` (the constructor arguments below) and `model.safetensors` (the weights).

Load it with cgan-zoo, strictly and from safetensors only:

```python
from cgan_zoo import HubModel

model = HubModel.from_pretrained("path/to/this/folder")  # or the Hub repo id it was pushed to
```

| Constructor argument | Value |
| --- | --- |
{{ config_rows }}
"""


class HubModel(
    nn.Module,
    PyTorchModelHubMixin,
    library_name="cgan-zoo",
    tags=["cgan-zoo", "pix2pix", "image-to-image"],
    license="apache-2.0",
    repo_url="https://github.com/cgan-zoo/cgan-zoo",
    model_card_template=MODEL_CARD_TEMPLATE,
):
    """Base class of every cgan-zoo model: JSON config plus strict safetensors I/O.

    Subclasses only define ``__init__`` with JSON-friendly keyword arguments and
    ``forward``. ``save_pretrained``, ``from_pretrained`` and ``push_to_hub`` come
    from ``huggingface_hub.PyTorchModelHubMixin``, with loading made strict.

    Shape:
        - Input and output: those of the subclass's ``forward`` (see
          :class:`~cgan_zoo.UNetGenerator`, :class:`~cgan_zoo.PatchDiscriminator`, ...).

    Example:
        >>> import tempfile
        >>> from cgan_zoo import create_model, HubModel
        >>> g = create_model("unet_tiny")
        >>> folder = tempfile.mkdtemp()
        >>> g.save_pretrained(folder)
        >>> type(HubModel.from_pretrained(folder)).__name__
        'UNetGenerator'
    """

    #: constructor arguments used only while building (such as a path to initial encoder
    #: weights): never part of :attr:`config` or ``config.json``, since the saved weights
    #: already hold their effect
    _build_only_args: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__dict__.get("_abstract_model", False):  # a base such as BaseGenerator is no model
            _MODEL_CLASSES[cls.__name__] = cls

    def __new__(cls, *args: Any, **kwargs: Any):
        instance = super().__new__(cls, *args, **kwargs)
        # The mixin silently drops passed values it cannot serialise and keeps the
        # parameter's *default* in the config instead; remember those names so that
        # saving refuses rather than writing a config that rebuilds another model.
        names = list(inspect.signature(cls.__init__).parameters)[1:]
        passed = {**dict(zip(names, args)), **kwargs}
        object.__setattr__(
            instance,
            "_non_json_args",
            sorted(
                k
                for k, v in passed.items()
                if not cls._is_jsonable(v) and k not in cls._build_only_args
            ),
        )
        config = instance._hub_mixin_config
        if cls._build_only_args and isinstance(config, dict):
            for name in cls._build_only_args:
                config.pop(name, None)
        return instance

    @property
    def config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this model (a JSON-friendly copy)."""
        cfg = self._hub_mixin_config or {}
        return json.loads(json.dumps(cfg))

    def _check_config_complete(self) -> dict[str, Any]:
        cfg: dict[str, Any] = dict(cast(dict, self._hub_mixin_config or {}))
        params = [p for p in inspect.signature(type(self).__init__).parameters.values()][1:]
        missing = [
            p.name
            for p in params
            if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
            and p.name not in self._build_only_args
            and (p.name not in cfg or p.name in getattr(self, "_non_json_args", ()))
        ]
        if missing:
            raise InvalidConfigError(
                f"{type(self).__name__} cannot be saved: constructor arguments {missing} are not "
                "JSON-serialisable, so config.json could not rebuild the model. Pass plain "
                "values (str, int, float, bool, list, dict) instead."
            )
        return cfg

    def generate_model_card(self, *args: Any, **kwargs: Any):
        """The model card ``save_pretrained`` writes: class, size, version and config; no claims.

        Example:
            >>> from cgan_zoo import create_model
            >>> card = str(create_model("unet_tiny").generate_model_card())
            >>> "UNetGenerator" in card, "pushed to the Hub" in card, "More Information Needed" in card
            (True, False, False)
        """
        rows = "\n".join(
            f"| `{key}` | `{json.dumps(value)}` |" for key, value in sorted(self.config.items())
        )
        kwargs.setdefault("model_class", type(self).__name__)
        kwargs.setdefault("parameters", f"{sum(p.numel() for p in self.parameters()):,}")
        kwargs.setdefault("version", __version__)
        kwargs.setdefault("config_rows", rows or "| (none) | |")
        return super().generate_model_card(*args, **kwargs)

    def _save_pretrained(self, save_directory: Path) -> None:
        cfg = self._check_config_complete()
        cfg[CLASS_KEY] = type(self).__name__
        cfg["_cgan_zoo_version"] = __version__
        save_safetensors(
            self.state_dict(),
            Path(save_directory) / WEIGHTS_NAME,
            metadata={"format": "pt", CLASS_KEY: type(self).__name__},
        )
        atomic_write_bytes(
            Path(save_directory) / CONFIG_NAME, json.dumps(cfg, indent=2, sort_keys=True).encode()
        )

    @classmethod
    def from_pretrained(  # type: ignore[override]
        cls: type[T],
        pretrained_model_name_or_path: str | os.PathLike,
        *,
        revision: str | None = None,
        cache_dir: str | os.PathLike | None = None,
        local_files_only: bool = False,
        token: str | bool | None = None,
        sha256: str | None = None,
        map_location: str | torch.device = "cpu",
        **overrides: Any,
    ) -> T:
        """Load a model saved with :meth:`save_pretrained`, from a folder or a Hub repo.

        Loading is strict: every tensor must match, the file must be safetensors, and
        nothing is copied unless everything matches. The class is taken from
        ``config.json``, so ``HubModel.from_pretrained`` returns the right subclass.

        Args:
            pretrained_model_name_or_path: Local folder or Hub repo id ``"owner/name"``.
            revision: Hub branch, tag or commit sha (pin a sha for reproducibility).
            cache_dir: Hugging Face cache folder.
            local_files_only: Never touch the network (same as ``HF_HUB_OFFLINE=1``).
            token: Hub token for private repos.
            sha256: Expected sha256 of ``model.safetensors`` (or, for sharded weights, of
                ``model.safetensors.index.json``, which pins every shard); checked when given.
            map_location: Device for the returned model.
            **overrides: Constructor arguments that replace the saved ones
                (for example ``dropout=0.0``); shapes must still match the weights.

        Returns:
            The model in eval mode.

        Raises:
            WeightsError: If files are missing, corrupt, of the wrong class or mismatched.
        """
        config_path, weights_path = resolve_model_files(
            pretrained_model_name_or_path,
            revision=revision,
            cache_dir=cache_dir,
            local_files_only=local_files_only,
            token=token,
        )
        try:
            config = json.loads(Path(config_path).read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise WeightsError(f"{str(config_path)!r} is not valid JSON: {exc}") from None
        if not isinstance(config, dict):
            raise WeightsError(f"{str(config_path)!r} must hold a JSON object.")
        try:
            klass, kwargs = cls._class_and_arguments(config, overrides)
        except InvalidConfigError as exc:
            raise WeightsError(f"{str(config_path)!r}: {exc}") from None
        try:
            model = klass(**kwargs)
        except TypeError as exc:
            raise WeightsError(
                f"{str(config_path)!r} holds arguments {klass.__name__} rejects: {exc}"
            ) from None
        state = load_weights_file(weights_path, sha256=sha256)
        load_state_dict_strict(model, state, source=f"weights {str(weights_path)!r}")
        return model.to(map_location).eval()

    @classmethod
    def from_config(cls: type[T], config: Mapping[str, Any], **overrides: Any) -> T:
        """Build a model, with fresh (random) weights, from a config as ``config.json`` holds it.

        ``config["_class_name"]`` picks the class (default: ``cls``); other keys that start
        with ``_`` are metadata and ignored. The other keys and ``overrides`` are the
        constructor arguments. ``model.config`` round-trips:
        ``type(m).from_config(m.config)`` rebuilds the same architecture.

        Args:
            config: Constructor arguments, optionally with ``_class_name``.
            **overrides: Arguments that replace those of ``config``.

        Returns:
            The new model (in train mode, as any freshly built module).

        Raises:
            InvalidConfigError: For an unknown class, one that is not a ``cls`` subclass,
                or arguments the class does not take (naming close matches).

        Example:
            >>> from cgan_zoo import create_model
            >>> g = create_model("unet_tiny")
            >>> config = {**g.config, "_class_name": type(g).__name__}
            >>> rebuilt = HubModel.from_config(config, dropout=0.0)
            >>> type(rebuilt).__name__, rebuilt.num_parameters() == g.num_parameters()
            ('UNetGenerator', True)
            >>> HubModel.from_config({"_class_name": "UNetGenerator", "base_chanels": 8})
            Traceback (most recent call last):
            ...
            cgan_zoo.errors.InvalidConfigError: config key 'base_chanels' is not an argument of UNetGenerator. Did you mean 'base_channels'...
        """
        klass, kwargs = cls._class_and_arguments(config, overrides)
        try:
            return klass(**kwargs)
        except TypeError as exc:
            raise InvalidConfigError(
                f"{klass.__name__} rejects the config's arguments: {exc}"
            ) from None

    @classmethod
    def _class_and_arguments(
        cls: type[T], config: Mapping[str, Any], overrides: Mapping[str, Any]
    ) -> tuple[type[T], dict[str, Any]]:
        """The class ``config`` names and its constructor arguments (``overrides`` win)."""
        from ._registry import did_you_mean

        if not isinstance(config, Mapping):
            raise InvalidConfigError(
                f"config must be a dict of constructor arguments, got {type(config).__name__}."
            )
        class_name = config.get(CLASS_KEY, cls.__name__)
        klass = model_classes().get(class_name) if isinstance(class_name, str) else None
        if klass is None or not issubclass(klass, cls):
            known = sorted(k for k, v in _MODEL_CLASSES.items() if issubclass(v, cls))
            raise InvalidConfigError(
                f"config describes a {class_name!r}, which is not a {cls.__name__} subclass known to "
                f"cgan-zoo (known: {known}).{did_you_mean(str(class_name), known)}"
            )
        params = {
            name
            for name, p in inspect.signature(klass.__init__).parameters.items()
            if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        } - {"self"}
        kwargs = {
            k: v
            for k, v in config.items()
            if not k.startswith("_") and k not in klass._build_only_args
        }
        kwargs.update(overrides)
        for key in kwargs:
            if key not in params:
                kind = "override" if key in overrides else "config key"
                raise InvalidConfigError(
                    f"{kind} {key!r} is not an argument of {klass.__name__}."
                    f"{did_you_mean(key, sorted(params))} Its arguments: {sorted(params)}."
                )
        return klass, kwargs

    def num_parameters(self, trainable_only: bool = False) -> int:
        """Number of (trainable) parameters.

        Example:
            >>> from cgan_zoo import create_model
            >>> create_model("pix2pix_unet256", in_channels=3, out_channels=3, task="generic").num_parameters()
            54413955
        """
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)
