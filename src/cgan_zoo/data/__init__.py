"""Datasets, masks and image loading for training conditional GANs.

Every dataset item is a dict of tensors (``"input"``, ``"target"``, optional ``"mask"``
with 1 = missing, and ``"index"``) that the default ``DataLoader`` collate batches; the
source file of an item is ``dataset.files[item["index"]]``.

Example:
    >>> import tempfile, pathlib, torch
    >>> from PIL import Image
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for i in range(2):
    ...     Image.new("RGB", (48, 40), (40 * i, 120, 200)).save(d / f"{i}.jpg")
    >>> loader = torch.utils.data.DataLoader(ColorizationDataset(d, crop_size=16), batch_size=2)
    >>> batch = next(iter(loader))
    >>> batch["input"].shape, batch["target"].shape, batch["index"].tolist()
    (torch.Size([2, 1, 16, 16]), torch.Size([2, 2, 16, 16]), [0, 1])
"""

from .colorization import ColorizationDataset, MissingRegionsDataset
from .folder import IMAGE_EXTENSIONS, list_images, load_rgb, probe_images
from .masks import MASK_KINDS, random_mask
from .paired import PairedDataset

__all__ = [
    "IMAGE_EXTENSIONS",
    "MASK_KINDS",
    "list_images",
    "load_rgb",
    "probe_images",
    "random_mask",
    "ColorizationDataset",
    "MissingRegionsDataset",
    "PairedDataset",
]
