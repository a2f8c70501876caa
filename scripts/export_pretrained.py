"""Turn a training checkpoint into bundled pretrained weights.

Takes the EMA generator from a trainer checkpoint, stores it as a ``save_pretrained``
folder under ``src/cgan_zoo/weights/<arch.tag>/`` with fp16 tensors (halves the wheel
size; the effect on the metrics is measured by ``scripts/evaluate_pretrained.py
--compare-fp32``), and records its sha256 and metadata in
``src/cgan_zoo/weights/registry.json``, from which ``cgan_zoo`` registers it at import.

Usage::

    python scripts/export_pretrained.py CKPT NAME --license LICENCE --description TEXT \
        [--input-size 256] [--fp32]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from cgan_zoo import HubModel
from cgan_zoo.serialization import save_safetensors
from cgan_zoo.training import generator_from_checkpoint, load_checkpoint

WEIGHTS = Path(__file__).resolve().parents[1] / "src" / "cgan_zoo" / "weights"
TRAINING_DATA = (
    "Real nature photos shipped in Debian and PyPI packages: Endless Sky landscapes, GCompris "
    "animals, MATE, KDE Plasma, libjxl, scikit-learn, scikit-image, SciPy and imgaug photos, natural-"
    "material textures and skies from UFO:AI, TORCS, MegaGlest, Red Eclipse, SuperTuxKart, OpenArena, "
    "Lugaru, Nexuiz, VPython, Blender, trigger-rally and Ren'Py, and a few from LibreOffice, GIMP and "
    "AfterStep; the training list of recipes/nature_split.json (whole source packages held out for "
    "validation). Per-file sources and licences in docs/data_sources.md"
)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint", type=Path,
                   help="a trainer checkpoint (its EMA generator), or a save_pretrained folder a run wrote "
                   "(then give --steps)")
    p.add_argument("name", help="arch.tag, e.g. unet_efficientnet_lite0.nature")
    p.add_argument("--license", default="CC-BY-SA-4.0")
    p.add_argument("--description", default="")
    p.add_argument("--input-size", type=int, default=256)
    p.add_argument("--recipe", default="", help="recipe file the run used, e.g. recipes/nature_colorizer.json")
    p.add_argument("--cpu-hours", type=float, default=0.0, help="wall-clock hours x CPU cores used")
    p.add_argument("--continued-to", type=int, default=0,
                   help="the run was resumed with a larger --steps budget (a second sitting) up to this step")
    p.add_argument("--fp32", action="store_true", help="store fp32 instead of fp16")
    p.add_argument("--steps", type=int, default=None,
                   help="training steps of a save_pretrained folder (a checkpoint records its own)")
    p.add_argument("--temperature", type=float, default=None,
                   help="colour-bin models: the default temperature stored in config.json (chosen on the "
                   "validation split with scripts/evaluate_pretrained.py's temperature sweep)")
    args = p.parse_args()

    arch = args.name.split(".", 1)[0]
    if args.checkpoint.is_dir():
        if args.steps is None:
            raise SystemExit("a save_pretrained folder does not record its training steps; pass --steps")
        model = HubModel.from_pretrained(args.checkpoint).eval()
        steps = args.steps
    else:
        model = generator_from_checkpoint(args.checkpoint)
        steps = int(load_checkpoint(args.checkpoint)["step"])
    if args.temperature is not None:
        if getattr(model, "color_head", None) != "bins":
            raise SystemExit("--temperature needs a colour-bin model (color_head='bins')")
        cfg = {k: v for k, v in model.config.items() if not k.startswith("_")}
        rebuilt = type(model)(**{**cfg, "temperature": args.temperature})
        rebuilt.load_state_dict(model.state_dict(), strict=True)
        model = rebuilt.eval()
    folder = WEIGHTS / args.name
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)  # config.json (+ fp32 weights, replaced below)
    tensors = {
        k: (v.half() if (v.is_floating_point() and not args.fp32) else v) for k, v in model.state_dict().items()
    }
    digest = save_safetensors(tensors, folder / "model.safetensors", metadata={"format": "pt"})
    (folder / "README.md").unlink(missing_ok=True)  # the model card is written by evaluate_pretrained.py

    registry_path = WEIGHTS / "registry.json"
    registry = json.loads(registry_path.read_text()) if registry_path.exists() else {}
    previous = registry.get(args.name, {})
    registry[args.name] = {
        **previous,
        "name": args.name,
        "architecture": arch,
        "sha256": digest,
        "license": args.license,
        "bundled": args.name,
        "task": model.task,
        "color_space": "lab",
        "input_size": args.input_size,
        "training_data": TRAINING_DATA,
        "description": args.description or previous.get("description", ""),
        "training": {
            "steps": steps,
            "recipe": args.recipe,
            "cpu_hours": args.cpu_hours,
            **({"continued_to": args.continued_to} if args.continued_to else {}),
            "storage_dtype": "float32" if args.fp32 else "float16",
        },
    }
    registry_path.write_text(json.dumps(registry, indent=2, sort_keys=True) + "\n")
    n = sum(v.numel() for v in model.state_dict().values())
    print(f"{args.name}: {n} values, {(folder / 'model.safetensors').stat().st_size / 1e6:.1f} MB, sha256 {digest}")


if __name__ == "__main__":
    main()
