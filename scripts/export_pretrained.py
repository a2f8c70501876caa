"""Turn a training checkpoint into bundled pretrained weights, or into a weights package.

Takes the EMA generator from a trainer checkpoint (or run folder, or ``save_pretrained``
folder; loaded with :func:`cgan_zoo.load_generator`), stores it with fp16 tensors (half
the size; the effect on the metrics is measured by ``scripts/evaluate_pretrained.py
--compare-fp32``) and records its sha256 and metadata:

* by default as a ``save_pretrained`` folder under ``src/cgan_zoo/weights/<arch.tag>/``,
  listed in ``src/cgan_zoo/weights/registry.json``, from which ``cgan_zoo`` registers it;
* with ``--package DIR``, as the weights package ``DIR`` (written by
  :func:`cgan_zoo.weights.packaging.make_weights_package`, replacing an earlier export
  there), for weights too large for the wheel; ``--max-shard-mb`` splits large weights.

The model card is written afterwards by ``scripts/evaluate_pretrained.py --write``.

Usage::

    python scripts/export_pretrained.py CKPT NAME --license LICENCE --description TEXT \
        [--input-size 256] [--fp32] [--recipe FILE] [--cpu-hours H]
    python scripts/export_pretrained.py runs/seed pix2pix_unet256.nature \
        --package packages/cgan-zoo-weights-pix2pix --max-shard-mb 50 --recipe recipes/seed_pix2pix_unet256.json
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

from cgan_zoo import load_generator
from cgan_zoo._builder import find_checkpoint
from cgan_zoo.serialization import save_safetensors
from cgan_zoo.training.checkpoint import checkpoint_info

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
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "checkpoint",
        type=Path,
        help="a trainer checkpoint (its EMA generator), or a save_pretrained folder a run wrote "
        "(then give --steps)",
    )
    p.add_argument("name", help="arch.tag, e.g. unet_efficientnet_lite0.nature")
    p.add_argument("--license", default="CC-BY-SA-4.0")
    p.add_argument("--description", default="")
    p.add_argument("--input-size", type=int, default=256)
    p.add_argument(
        "--recipe", default="", help="recipe file the run used, e.g. recipes/nature_colorizer.json"
    )
    p.add_argument("--cpu-hours", type=float, default=0.0, help="wall-clock hours x CPU cores used")
    p.add_argument(
        "--continued-to",
        type=int,
        default=0,
        help="the run was resumed with a larger --steps budget (a second sitting) up to this step",
    )
    p.add_argument("--fp32", action="store_true", help="store fp32 instead of fp16")
    p.add_argument(
        "--steps",
        type=int,
        default=None,
        help="training steps of a save_pretrained folder (a checkpoint records its own)",
    )
    p.add_argument(
        "--package",
        type=Path,
        default=None,
        help="write a weights package to this folder instead of bundling the weights",
    )
    p.add_argument("--distribution", default=None, help="with --package: pip distribution name")
    p.add_argument(
        "--max-shard-mb",
        type=float,
        default=None,
        help="with --package: split weights larger than this into pinned shards",
    )
    p.add_argument(
        "--temperature",
        type=float,
        default=None,
        help="colour-bin models: the default temperature stored in config.json (chosen on the "
        "validation split with scripts/evaluate_pretrained.py's temperature sweep)",
    )
    args = p.parse_args()

    arch = args.name.split(".", 1)[0]
    model = load_generator(args.checkpoint).eval()
    if args.checkpoint.is_dir() and (args.checkpoint / "config.json").is_file():
        if args.steps is None:
            raise SystemExit(
                "a save_pretrained folder does not record its training steps; pass --steps"
            )
        steps = args.steps
    else:
        ckpt = find_checkpoint(args.checkpoint) if args.checkpoint.is_dir() else args.checkpoint
        steps = int(checkpoint_info(ckpt)["step"]) if ckpt is not None else int(args.steps or 0)
    if args.temperature is not None:
        if getattr(model, "color_head", None) != "bins":
            raise SystemExit("--temperature needs a colour-bin model (color_head='bins')")
        cfg = {k: v for k, v in model.config.items() if not k.startswith("_")}
        rebuilt = type(model)(**{**cfg, "temperature": args.temperature})
        rebuilt.load_state_dict(model.state_dict(), strict=True)
        model = rebuilt.eval()
    training = {
        "steps": steps,
        "recipe": args.recipe,
        "cpu_hours": args.cpu_hours,
        "split": "recipes/nature_split.json",
        **({"continued_to": args.continued_to} if args.continued_to else {}),
    }
    if args.package is not None:
        export_package(model, args, training)
        return
    folder = WEIGHTS / args.name
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)  # config.json (+ fp32 weights, replaced below)
    tensors = {
        k: (v.half() if (v.is_floating_point() and not args.fp32) else v)
        for k, v in model.state_dict().items()
    }
    digest = save_safetensors(tensors, folder / "model.safetensors", metadata={"format": "pt"})
    (folder / "README.md").unlink(
        missing_ok=True
    )  # the model card is written by evaluate_pretrained.py

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
        "training": {**training, "storage_dtype": "float32" if args.fp32 else "float16"},
    }
    registry_path.write_text(json.dumps(registry, indent=2, sort_keys=True) + "\n")
    n = sum(v.numel() for v in model.state_dict().values())
    print(
        f"{args.name}: {n} values, {(folder / 'model.safetensors').stat().st_size / 1e6:.1f} MB, sha256 {digest}"
    )


def export_package(model, args: argparse.Namespace, training: dict) -> None:
    """Write ``model`` as the weights package ``args.package`` (replacing an earlier export)."""
    from cgan_zoo.weights.packaging import make_weights_package

    out = args.package
    if out.exists():
        if not list(out.glob("src/*/registry.json")):
            raise SystemExit(
                f"--package {out} exists and is not a weights package; choose another folder"
            )
        shutil.rmtree(out)
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(Path(tmp) / "model")
        (Path(tmp) / "model" / "README.md").unlink(missing_ok=True)
        make_weights_package(
            Path(tmp) / "model",
            args.name,
            out,
            distribution=args.distribution,
            license=args.license,
            description=args.description,
            input_size=args.input_size,
            fp16=not args.fp32,
            training_data=TRAINING_DATA,
            training=training,
            max_shard_mb=args.max_shard_mb,
        )
    registry = next(out.glob("src/*/registry.json"))
    entry = json.loads(registry.read_text())[args.name]
    print(
        f"{args.name}: weights package {out} (sha256 {entry['sha256']}); install it with: pip install {out}"
    )


if __name__ == "__main__":
    main()
