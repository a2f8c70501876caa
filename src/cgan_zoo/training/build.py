"""Building what a training run needs from its :class:`Pix2PixConfig`: models, optimisers, losses, data.

Each function reads the config and returns one thing; none keeps state. The trainer
calls them once, in ``Pix2PixTrainer.__init__``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

from .._factory import create_model, load_generator
from ..errors import InvalidConfigError
from ..models.base import require_generator_like
from .config import TASKS, Pix2PixConfig

__all__ = [
    "requires_grad",
    "build_generator",
    "load_init",
    "generator_from_config",
    "copy_matching_weights",
    "build_discriminator",
    "build_optimizers",
    "build_losses",
    "build_dataset",
    "init_bin_weights",
]

Log = Callable[[str], None]


def _quiet(text: str) -> None:
    """The default log: say nothing."""


def requires_grad(module: nn.Module, flag: bool) -> None:
    """Turn gradients of all of ``module``'s parameters on or off.

    Example:
        >>> m = nn.Linear(2, 2); requires_grad(m, False); m.weight.requires_grad
        False
    """
    for p in module.parameters():
        p.requires_grad_(flag)


def build_generator(config: Pix2PixConfig, log: Log = _quiet) -> nn.Module:
    """The generator to train: from ``config.generator``, or from ``config.init`` to fine-tune.

    Raises:
        InvalidConfigError: If the initial weights were trained for another task, or
            ``freeze_encoder`` is set for a generator without an encoder.

    Example:
        >>> g = build_generator(Pix2PixConfig(generator="unet_tiny"))
        >>> type(g).__name__, g.task
        ('UNetGenerator', 'colorize')
    """
    gen: nn.Module
    if config.init and not config.init_strict:
        gen = generator_from_config(config)
        copy_matching_weights(gen, load_init(config), config.init, log)
    elif config.init:
        gen = load_init(config, **config.generator_kwargs)
    else:
        gen = generator_from_config(config)
    task = require_generator_like(gen, "Pix2PixTrainer").task
    if task != TASKS[config.task]:
        raise InvalidConfigError(
            f"generator task {task!r} does not match training task {config.task!r}; "
            "initialise from weights trained for the same task."
        )
    if config.freeze_encoder:
        encoder = getattr(gen, "encoder", None)
        if encoder is None:
            raise InvalidConfigError(
                f"freeze_encoder=True needs a generator with a pretrained encoder (e.g. a TimmUNet); "
                f"{type(gen).__name__} has none."
            )
        requires_grad(encoder, False)
    return gen


def load_init(config: Pix2PixConfig, **kwargs: Any) -> nn.Module:
    """The generator ``config.init`` names, in train mode, via :func:`cgan_zoo.load_generator`.

    ``config.init`` is anything that loader takes: a pretrained name, a ``save_pretrained``
    folder, a Hub id, or a trainer run folder or checkpoint (its EMA weights); ``kwargs``
    override constructor arguments (shapes must still match).
    """
    assert config.init is not None
    gen = load_generator(config.init, **kwargs)
    gen.train()
    return gen


def generator_from_config(config: Pix2PixConfig) -> nn.Module:
    """A fresh ``config.generator`` with the channels and task the training task needs.

    Example:
        >>> g = generator_from_config(Pix2PixConfig(generator="unet_tiny", task="paired"))
        >>> g.in_channels, g.out_channels
        (3, 3)
    """
    kwargs = {"task": TASKS[config.task], **config.generator_kwargs}
    if TASKS[config.task] != "generic":
        kwargs.setdefault("ab_scale", config.ab_scale)
    if config.task == "colorize-missing":
        kwargs.setdefault("in_channels", 2)
        kwargs.setdefault("out_channels", 3)
    elif config.task == "paired":
        kwargs.setdefault("in_channels", 3)
        kwargs.setdefault("out_channels", 3)
    if config.encoder_weights:
        kwargs["encoder_weights"] = config.encoder_weights
        kwargs["encoder_key_map"] = config.encoder_key_map
    return create_model(config.generator, **kwargs)


def copy_matching_weights(
    gen: nn.Module, source: nn.Module, name: str, log: Log = _quiet
) -> list[str]:
    """Copy the tensors of ``source`` whose name and shape match ``gen`` (``init_strict=False``).

    Returns:
        The names copied; the log line also names the new and the unused ones.

    Example:
        >>> copy_matching_weights(nn.Linear(2, 2), nn.Linear(3, 2), "x")
        ['bias']
    """
    own = gen.state_dict()
    theirs = source.state_dict()
    copied = [k for k, v in theirs.items() if k in own and own[k].shape == v.shape]
    with torch.no_grad():
        for k in copied:
            own[k].copy_(theirs[k])
    fresh = sorted(set(own) - set(copied))
    dropped = sorted(set(theirs) - set(copied))
    log(
        f"init {name!r} (init_strict=False): copied {len(copied)} tensors; "
        f"{len(fresh)} new ({', '.join(fresh[:4])}{', ...' if len(fresh) > 4 else ''}); "
        f"{len(dropped)} unused ({', '.join(dropped[:4])}{', ...' if len(dropped) > 4 else ''})"
    )
    return copied


def build_discriminator(config: Pix2PixConfig, generator: nn.Module) -> nn.Module:
    """``config.discriminator`` on (input, output) pairs of ``generator``.

    Example:
        >>> cfg = Pix2PixConfig(generator="unet_tiny", discriminator="patchgan_tiny")
        >>> type(build_discriminator(cfg, build_generator(cfg))).__name__
        'PatchDiscriminator'
    """
    contract = require_generator_like(generator, "Pix2PixTrainer")
    g_in, g_out = int(contract.in_channels), int(contract.out_channels)
    return create_model(
        config.discriminator, **{"in_channels": g_in + g_out, **config.discriminator_kwargs}
    )


def build_optimizers(
    config: Pix2PixConfig, generator: nn.Module, discriminator: nn.Module
) -> tuple[torch.optim.Adam, torch.optim.Adam]:
    """Adam for G's trainable parameters and for D's, with the config's learning rates and betas."""
    betas = (config.beta1, config.beta2)
    g_params = [p for p in generator.parameters() if p.requires_grad]
    opt_g = torch.optim.Adam(g_params, lr=config.lr_g, betas=betas, foreach=True)
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=config.lr_d, betas=betas, foreach=True)
    return opt_g, opt_d


def build_losses(
    config: Pix2PixConfig, device: torch.device
) -> tuple[nn.Module, nn.Module, nn.Module | None]:
    """The adversarial loss, the feature-matching loss and (when weighted) the perceptual loss."""
    from ..losses import AdversarialLoss, FeatureMatchingLoss

    perceptual = None
    if config.lambda_perceptual > 0:
        from ..losses import PerceptualLoss

        perceptual = PerceptualLoss(
            encoder_name=config.perceptual_encoder,
            weights_path=config.perceptual_weights,
            key_map=config.perceptual_key_map,
        ).to(device)
    return AdversarialLoss(config.gan_mode).to(device), FeatureMatchingLoss(), perceptual


def build_dataset(config: Pix2PixConfig, train: bool, ab_scale: float) -> Dataset | None:
    """The training (or validation) dataset of ``config``, or ``None`` when it names none."""
    root: Any = config.data_dir if train else config.val_dir
    files = config.train_files if train else config.val_files
    if not root and not files:
        return None
    from ..data import ColorizationDataset, MissingRegionsDataset, PairedDataset

    if config.task == "paired":
        return PairedDataset(
            root,
            layout=config.paired_layout,
            direction=config.direction,
            crop_size=config.crop_size,
            load_size=config.load_size,
            train=train,
            flip=config.flip,
        )
    common: dict[str, Any] = dict(
        crop_size=config.crop_size,
        scales=tuple(config.scales),
        flip=config.flip,
        train=train,
        ab_scale=ab_scale,
        files=files,
    )
    source = root if root else files
    if config.task == "colorize-missing":
        return MissingRegionsDataset(source, missing_fraction=config.missing_fraction, **common)
    return ColorizationDataset(source, **common)


def init_bin_weights(
    generator: nn.Module, dataset: Dataset, mix: float, log: Log = _quiet, max_images: int = 192
) -> None:
    """Estimate the colour-bin prior from the training photos and set the rebalancing weights."""
    from ..color_bins import bin_histogram, rebalancing_weights

    gen: Any = generator
    centers = gen.bin_centers
    counts = torch.zeros(centers.shape[0], dtype=torch.float64)
    n = len(dataset)  # type: ignore[arg-type]
    for i in sorted({round(k * n / max_images) for k in range(max_images)} & set(range(n))):
        target = dataset[i]["target"]
        counts += bin_histogram(target[None].to(centers.device), centers)
    with torch.no_grad():
        gen.bin_weights.copy_(rebalancing_weights(counts, centers.cpu(), mix=mix))
    log(
        f"bin prior from {min(n, max_images)} photos: {int((counts > 0).sum())}/{len(counts)} bins seen, "
        f"rebalancing weights {float(gen.bin_weights.min()):.2f}..{float(gen.bin_weights.max()):.2f}"
    )
