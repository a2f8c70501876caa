"""Convert checkpoints of other implementations into cgan-zoo models.

``from_reference`` reads a generator or discriminator checkpoint of the pix2pix /
CycleGAN reference code (``junyanz/pytorch-CycleGAN-and-pix2pix``) and returns the
cgan-zoo model with the same outputs; ``cgan-zoo convert SRC OUT_DIR`` does the same
on the command line and writes a ``save_pretrained`` folder.

This package is the only place where cgan-zoo reads a pickle-based file, and it does so
with ``torch.load(..., weights_only=True)``, which builds tensors and plain containers
only. ``from_pretrained`` and every other loader read safetensors only.

Example:
    >>> import tempfile, torch
    >>> from cgan_zoo import HubModel
    >>> d = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 1), torch.nn.LeakyReLU(0.2),
    ...                         torch.nn.Conv2d(8, 16, 1, bias=False), torch.nn.BatchNorm2d(16),
    ...                         torch.nn.LeakyReLU(0.2), torch.nn.Conv2d(16, 1, 1, bias=False))
    >>> state = {f"net.{k}": v for k, v in d.state_dict().items()}  # a reference PixelDiscriminator
    >>> folder = tempfile.mkdtemp()
    >>> from_reference(state).save_pretrained(folder)
    >>> type(HubModel.from_pretrained(folder)).__name__
    'PatchDiscriminator'
"""

from .reading import WRAPPER_KEYS, read_state_dict, strip_prefix
from .reference import ReferenceArchitecture, detect_reference, from_reference, reference_key_map

__all__ = [
    "from_reference",
    "detect_reference",
    "reference_key_map",
    "ReferenceArchitecture",
    "read_state_dict",
    "strip_prefix",
    "WRAPPER_KEYS",
]
