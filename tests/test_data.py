"""Tests of cgan_zoo.data: listing, safe loading and the datasets, on tiny generated images."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from cgan_zoo import color
from cgan_zoo.data import (
    ColorizationDataset,
    MissingRegionsDataset,
    PairedDataset,
    list_images,
    load_rgb,
)
from cgan_zoo.data.masks import FRACTION_TOLERANCE
from cgan_zoo.errors import InvalidConfigError, InvalidInputError

RED, GREEN, BLUE = (220, 30, 30), (30, 180, 40), (30, 40, 220)


def _photo(width: int, height: int, seed: int = 0) -> Image.Image:
    """A smooth random colour image (gradients plus mild noise), like a tiny photo."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    chans = []
    for _ in range(3):
        fx, fy, ph = rng.uniform(0.02, 0.1), rng.uniform(0.02, 0.1), rng.uniform(0, 6)
        chans.append(0.5 + 0.4 * np.sin(fx * xx + fy * yy + ph))
    arr = np.stack(chans, -1) + rng.normal(0, 0.02, (height, width, 3))
    return Image.fromarray((np.clip(arr, 0, 1) * 255).astype(np.uint8))


def _solid(width: int, height: int, rgb=GREEN) -> Image.Image:
    return Image.new("RGB", (width, height), rgb)


def _model_ab(rgb) -> torch.Tensor:
    px = torch.tensor(rgb, dtype=torch.float32).view(1, 3, 1, 1) / 255.0
    return color.rgb_to_model_lab(px)[1].view(2)


@pytest.fixture
def photo_dir(tmp_path: Path) -> Path:
    """Five images in three formats, two of them in nested folders."""
    root = tmp_path / "photos"
    (root / "sub" / "deeper").mkdir(parents=True)
    _photo(80, 60, 1).save(root / "a.jpg", quality=95)
    _photo(64, 64, 2).save(root / "b.png")
    _photo(50, 70, 3).save(root / "sub" / "c.webp", quality=95)
    _photo(90, 40, 4).save(root / "sub" / "d.JPEG", quality=95)
    _photo(40, 40, 5).save(root / "sub" / "deeper" / "e.png")
    (root / "notes.txt").write_text("not an image")
    return root


def _user_warnings(record) -> list[warnings.WarningMessage]:
    return [w for w in record if issubclass(w.category, UserWarning)]


# -- listing and loading --------------------------------------------------------------------


def test_list_images_sorted_recursive_and_filtered(photo_dir):
    files = list_images(photo_dir)
    rel = [p.relative_to(photo_dir).as_posix() for p in files]
    assert rel == ["a.jpg", "b.png", "sub/c.webp", "sub/d.JPEG", "sub/deeper/e.png"]
    assert [p.name for p in list_images(photo_dir, recursive=False)] == ["a.jpg", "b.png"]
    assert [p.name for p in list_images(photo_dir, extensions=(".png",))] == ["b.png", "e.png"]
    (photo_dir / ".hidden.jpg").write_bytes(b"")
    assert len(list_images(photo_dir)) == 5


def test_list_images_missing_folder(tmp_path):
    with pytest.raises(InvalidInputError, match="does not exist"):
        list_images(tmp_path / "nope")


def test_load_rgb_modes(tmp_path):
    Image.new("L", (6, 4), 100).save(tmp_path / "gray.png")
    rgba = Image.new("RGBA", (6, 4), (255, 0, 0, 255))
    rgba.putpixel((0, 0), (0, 0, 0, 0))  # fully transparent pixel -> white background
    rgba.save(tmp_path / "rgba.png")
    Image.new("RGB", (6, 4), BLUE).convert("P", palette=Image.Palette.ADAPTIVE).save(
        tmp_path / "pal.png"
    )
    Image.fromarray(np.full((4, 6), 65535, np.uint16)).save(tmp_path / "g16.png")
    for name in ["gray.png", "rgba.png", "pal.png", "g16.png"]:
        img = load_rgb(tmp_path / name)
        assert img.mode == "RGB" and img.size == (6, 4)
    assert load_rgb(tmp_path / "gray.png").getpixel((3, 3)) == (100, 100, 100)
    assert load_rgb(tmp_path / "rgba.png").getpixel((0, 0)) == (255, 255, 255)
    assert load_rgb(tmp_path / "rgba.png").getpixel((1, 1)) == (255, 0, 0)
    assert load_rgb(tmp_path / "g16.png").getpixel((0, 0)) == (255, 255, 255)


def test_load_rgb_applies_exif_orientation(tmp_path):
    img = _solid(40, 20, RED)
    img.paste(BLUE, (0, 0, 10, 20))  # blue on the left as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    img.save(tmp_path / "rot.jpg", exif=exif, quality=95)
    out = load_rgb(tmp_path / "rot.jpg")
    assert out.size == (20, 40)
    r, g, b = out.getpixel((10, 5))  # stored left edge is now the top
    assert b > 150 and r < 100


def test_load_rgb_draft_for_big_jpeg(tmp_path):
    _solid(1600, 1200, RED).save(tmp_path / "big.jpg")
    img = load_rgb(tmp_path / "big.jpg", draft_size=256)
    assert 256 <= min(img.size) < 1200
    assert load_rgb(tmp_path / "big.jpg").size == (1600, 1200)


def _write_corrupt_files(folder: Path) -> list[str]:
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "text.jpg").write_text("this is not a jpeg\n" * 20)
    full = folder / "full.jpg"
    _photo(64, 64, 9).save(full, quality=90)
    data = full.read_bytes()
    (folder / "truncated.jpg").write_bytes(data[: len(data) // 2])
    full.unlink()
    return ["empty.jpg", "text.jpg", "truncated.jpg"]


@pytest.mark.parametrize("name", ["empty.jpg", "text.jpg", "truncated.jpg", "missing.png"])
def test_load_rgb_bad_files_name_the_file(tmp_path, name):
    _write_corrupt_files(tmp_path)
    with pytest.raises(InvalidInputError, match=name.replace(".", r"\.")):
        load_rgb(tmp_path / name)


# -- ColorizationDataset --------------------------------------------------------------------


def test_colorization_items_shapes_and_ranges(photo_dir):
    ds = ColorizationDataset(photo_dir, crop_size=32)
    assert len(ds) == 5 and ds.skipped == []
    for i in range(len(ds)):
        item = ds[i]
        assert set(item) == {"input", "target", "index"}
        assert item["input"].shape == (1, 32, 32) and item["input"].dtype == torch.float32
        assert item["target"].shape == (2, 32, 32) and item["target"].dtype == torch.float32
        assert item["index"] == i and isinstance(item["index"], int)
        assert item["input"].min() >= -1 and item["input"].max() <= 1
        assert item["target"].abs().max() <= 1
        assert item["target"].abs().max() > 0.05  # the photos are coloured


def test_colorization_values_follow_color_contract(tmp_path):
    _solid(40, 30, GREEN).save(tmp_path / "g.png")
    for train in (True, False):
        item = ColorizationDataset(tmp_path, crop_size=16, train=train, ab_scale=80.0)[0]
        px = torch.tensor(GREEN, dtype=torch.float32).view(1, 3, 1, 1) / 255.0
        want_l, want_ab = color.rgb_to_model_lab(px, ab_scale=80.0)
        torch.testing.assert_close(
            item["input"], want_l.view(1, 1, 1).expand(1, 16, 16), atol=2e-3, rtol=0
        )
        torch.testing.assert_close(
            item["target"], want_ab.view(2, 1, 1).expand(2, 16, 16), atol=2e-3, rtol=0
        )


def test_colorization_determinism_under_manual_seed(photo_dir):
    ds = ColorizationDataset(photo_dir, crop_size=24, scales=(0.3, 1.0))
    torch.manual_seed(42)
    a = [ds[i] for i in range(len(ds))]
    torch.manual_seed(42)
    b = [ds[i] for i in range(len(ds))]
    torch.manual_seed(43)
    c = [ds[i] for i in range(len(ds))]
    assert all(
        torch.equal(x["input"], y["input"]) and torch.equal(x["target"], y["target"])
        for x, y in zip(a, b)
    )
    assert any(not torch.equal(x["input"], y["input"]) for x, y in zip(a, c))


def test_colorization_ignores_python_and_numpy_rng(photo_dir):
    import random

    ds = ColorizationDataset(photo_dir, crop_size=24)
    torch.manual_seed(1)
    random.seed(1)
    np.random.seed(1)
    a = ds[0]["input"]
    torch.manual_seed(1)
    random.seed(2)
    np.random.seed(2)
    assert torch.equal(ds[0]["input"], a)


def _three_band_image() -> Image.Image:
    """120x80: red | green | blue, with the green band exactly the centred 80x80 square."""
    img = _solid(120, 80, GREEN)
    img.paste(RED, (0, 0, 20, 80))
    img.paste(BLUE, (100, 0, 120, 80))
    return img


def test_eval_is_deterministic_center_crop(tmp_path):
    _three_band_image().save(tmp_path / "bands.png")
    ds = ColorizationDataset(tmp_path, crop_size=16, train=False)
    torch.manual_seed(0)
    a = ds[0]
    torch.manual_seed(99)
    b = ds[0]
    assert torch.equal(a["target"], b["target"])
    # Only the green centre survives; no red or blue from the sides.
    want = _model_ab(GREEN).view(2, 1, 1).expand(2, 16, 16)
    torch.testing.assert_close(a["target"], want, atol=5e-3, rtol=0)


def test_train_crops_vary_and_reach_the_sides(tmp_path):
    _three_band_image().save(tmp_path / "bands.png")
    ds = ColorizationDataset(tmp_path, crop_size=16, scales=(0.25, 0.25), flip=False)
    red_ab = _model_ab(RED).view(2, 1, 1)
    saw_red = False
    crops = []
    for seed in range(25):
        torch.manual_seed(seed)
        t = ds[0]["target"]
        crops.append(t)
        saw_red |= bool(((t - red_ab).abs().sum(0) < 0.02).float().mean() > 0.25)
    assert saw_red
    assert len({tuple(c.flatten()[::37].tolist()) for c in crops}) > 5


def _left_right_image(size: int = 64) -> Image.Image:
    img = _solid(size, size, BLUE)
    img.paste(RED, (0, 0, size // 2, size))
    return img


@pytest.mark.parametrize("flip", [True, False])
def test_train_flips(tmp_path, flip):
    _left_right_image().save(tmp_path / "lr.png")
    ds = ColorizationDataset(tmp_path, crop_size=16, scales=(1.0, 1.0), flip=flip)
    red_a = _model_ab(RED)[0]
    left_is_red = []
    for seed in range(16):
        torch.manual_seed(seed)
        a = ds[0]["target"][0]
        left_is_red.append(abs(a[8, 1].item() - red_a.item()) < 0.02)
    if flip:
        assert 0 < sum(left_is_red) < 16
    else:
        assert all(left_is_red)


def test_corrupt_files_skipped_with_one_warning(photo_dir):
    bad = _write_corrupt_files(photo_dir / "sub")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        ds = ColorizationDataset(photo_dir, crop_size=16)
    user = _user_warnings(record)
    assert len(user) == 1
    message = str(user[0].message)
    for name in bad:
        assert name in message
    assert len(ds) == 5
    assert {p.name for p, _ in ds.skipped} == set(bad)
    assert not any(p.name in bad for p in ds.files)
    assert ds[len(ds) - 1]["input"].shape == (1, 16, 16)


def test_file_broken_after_construction_is_replaced(photo_dir):
    ds = ColorizationDataset(photo_dir, crop_size=16, train=False)
    broken = ds.files[1]
    broken.write_bytes(b"garbage")
    with pytest.warns(UserWarning, match=broken.name) as record:
        item = ds[1]
    assert len(_user_warnings(record)) == 1
    assert item["index"] == 2 and item["input"].shape == (1, 16, 16)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no second warning for the same file
        assert ds[1]["index"] == 2


def test_empty_folder_error(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("hi")
    with pytest.raises(InvalidInputError, match=r"empty.*\.jpg.*\.png"):
        ColorizationDataset(tmp_path / "empty")


def test_all_files_bad_error(tmp_path):
    _write_corrupt_files(tmp_path)
    with pytest.warns(UserWarning), pytest.raises(InvalidInputError, match="None of the 3"):
        ColorizationDataset(tmp_path)


def test_gray_and_rgba_inputs(tmp_path):
    Image.new("L", (40, 40), 90).save(tmp_path / "gray.png")
    Image.new("RGBA", (40, 40), (*RED, 255)).save(tmp_path / "rgba.png")
    Image.new("RGB", (40, 40), BLUE).convert("P").save(tmp_path / "pal.png")
    ds = ColorizationDataset(tmp_path, crop_size=8, train=False)
    items = {p.name: ds[i] for i, p in enumerate(ds.files)}
    assert items["gray.png"]["target"].abs().max() < 1e-3
    torch.testing.assert_close(
        items["rgba.png"]["target"], _model_ab(RED).view(2, 1, 1).expand(2, 8, 8), atol=2e-3, rtol=0
    )
    assert items["pal.png"]["target"].abs().max() > 0.1


def test_explicit_files_root_list_and_min_side(photo_dir, tmp_path):
    files = list_images(photo_dir)
    ds = ColorizationDataset(None, crop_size=8, files=files[:2])
    assert ds.files == files[:2]
    ds2 = ColorizationDataset([photo_dir / "sub", photo_dir / "a.jpg"], crop_size=8)
    assert [p.name for p in ds2.files] == ["c.webp", "d.JPEG", "e.png", "a.jpg"]
    with pytest.warns(UserWarning, match="too small") as record:
        ds3 = ColorizationDataset(photo_dir, crop_size=8, min_side=45)
    assert len(_user_warnings(record)) == 1
    assert sorted(p.name for p, _ in ds3.skipped) == ["d.JPEG", "e.png"]


def test_big_jpeg_uses_draft_and_keeps_colour(tmp_path):
    _solid(1600, 1200, RED).save(tmp_path / "big.jpg", quality=95)
    item = ColorizationDataset(tmp_path, crop_size=32)[0]
    assert item["target"].shape == (2, 32, 32)
    torch.testing.assert_close(item["target"].mean((1, 2)), _model_ab(RED), atol=0.02, rtol=0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"crop_size": 0}, "crop_size"),
        ({"scales": (0.0, 1.0)}, "scales"),
        ({"scales": (0.9, 0.5)}, "scales"),
        ({"ab_scale": -1.0}, "ab_scale"),
        ({"min_side": 0}, "min_side"),
    ],
)
def test_colorization_bad_config(photo_dir, kwargs, match):
    with pytest.raises(InvalidConfigError, match=match):
        ColorizationDataset(photo_dir, **kwargs)


# -- MissingRegionsDataset ------------------------------------------------------------------


def test_missing_regions_items(photo_dir):
    ds = MissingRegionsDataset(photo_dir, crop_size=32, train=False, missing_fraction=0.3)
    ref = ColorizationDataset(photo_dir, crop_size=32, train=False)
    for i in range(len(ds)):
        item, base = ds[i], ref[i]
        assert set(item) == {"input", "target", "mask", "index"}
        mask = item["mask"]
        assert item["input"].shape == (2, 32, 32)
        assert item["target"].shape == (3, 32, 32)
        assert mask.shape == (1, 32, 32) and mask.dtype == torch.float32
        assert abs(mask.mean().item() - 0.3) <= FRACTION_TOLERANCE + 1e-6
        torch.testing.assert_close(item["target"], torch.cat([base["input"], base["target"]]))
        torch.testing.assert_close(item["input"][1:], mask)
        torch.testing.assert_close(item["input"][:1], base["input"] * (1 - mask))
        assert (item["input"][0][mask[0] == 1] == 0).all()


def test_missing_regions_eval_masks_fixed_per_index(photo_dir):
    ds = MissingRegionsDataset(photo_dir, crop_size=24, train=False)
    torch.manual_seed(0)
    a = [ds[i]["mask"] for i in range(len(ds))]
    torch.manual_seed(1)
    b = [ds[i]["mask"] for i in range(len(ds))]
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert not torch.equal(a[0], a[1])
    ds2 = MissingRegionsDataset(photo_dir, crop_size=24, train=False)
    assert torch.equal(ds2[3]["mask"], a[3])


def test_missing_regions_train_masks_follow_torch_seed(photo_dir):
    ds = MissingRegionsDataset(
        photo_dir, crop_size=24, mask_kinds=("strokes",), missing_fraction=0.2
    )
    torch.manual_seed(5)
    a = ds[0]
    torch.manual_seed(5)
    b = ds[0]
    torch.manual_seed(6)
    c = ds[0]
    assert torch.equal(a["mask"], b["mask"]) and torch.equal(a["input"], b["input"])
    assert not torch.equal(a["mask"], c["mask"])


@pytest.mark.parametrize(
    "kwargs", [{"missing_fraction": 0.99}, {"missing_fraction": -0.1}, {"mask_kinds": ("blobs",)}]
)
def test_missing_regions_bad_config(photo_dir, kwargs):
    with pytest.raises(InvalidConfigError):
        MissingRegionsDataset(photo_dir, **kwargs)


# -- PairedDataset --------------------------------------------------------------------------


def _to_signed(rgb) -> torch.Tensor:
    return torch.tensor(rgb, dtype=torch.float32) / 127.5 - 1.0


@pytest.fixture
def side_by_side_dir(tmp_path: Path) -> Path:
    root = tmp_path / "sbs"
    root.mkdir()
    for i in range(3):
        img = Image.new("RGB", (96, 48), RED)
        img.paste(BLUE, (48, 0, 96, 48))
        img.save(root / f"{i}.png")
    return root


@pytest.mark.parametrize("train", [True, False])
def test_paired_side_by_side(side_by_side_dir, train):
    ds = PairedDataset(side_by_side_dir, crop_size=32, load_size=40, train=train)
    assert len(ds) == 3
    item = ds[0]
    assert item["input"].shape == (3, 32, 32) and item["target"].shape == (3, 32, 32)
    assert item["input"].dtype == torch.float32 and item["index"] == 0
    torch.testing.assert_close(
        item["input"], _to_signed(RED).view(3, 1, 1).expand(3, 32, 32), atol=1e-2, rtol=0
    )
    torch.testing.assert_close(
        item["target"], _to_signed(BLUE).view(3, 1, 1).expand(3, 32, 32), atol=1e-2, rtol=0
    )
    swapped = PairedDataset(
        side_by_side_dir, direction="BtoA", crop_size=32, load_size=40, train=train
    )[0]
    torch.testing.assert_close(swapped["input"], item["target"], atol=1e-2, rtol=0)


def test_paired_same_crop_and_flip_for_a_and_b(tmp_path):
    photo = _photo(60, 50, 11)
    ab = Image.new("RGB", (120, 50))
    ab.paste(photo, (0, 0))
    ab.paste(photo, (60, 0))
    ab.save(tmp_path / "same.png")
    ds = PairedDataset(tmp_path, crop_size=24, load_size=40)
    outs = []
    for seed in range(6):
        torch.manual_seed(seed)
        item = ds[0]
        torch.testing.assert_close(item["input"], item["target"])
        outs.append(item["input"])
    assert any(not torch.equal(outs[0], o) for o in outs[1:])  # crops really are random
    torch.manual_seed(3)
    again = ds[0]["input"]
    assert torch.equal(again, outs[3])


def test_paired_folders_layout(tmp_path):
    for sub, rgb in (("A", RED), ("B", BLUE)):
        (tmp_path / sub / "nested").mkdir(parents=True)
        _solid(50, 40, rgb).save(tmp_path / sub / "1.png")
        _solid(50, 40, rgb).save(tmp_path / sub / "nested" / "2.png")
    _solid(30, 30, BLUE).save(tmp_path / "B" / "3.jpg")
    _solid(30, 30, RED).save(tmp_path / "A" / "3.png")  # extension may differ
    ds = PairedDataset(tmp_path, layout="folders", crop_size=16, load_size=20)
    assert len(ds) == 3
    assert [p.name for p in ds.files] == ["1.png", "3.png", "2.png"]
    assert [
        p.parent.parent.name if p.parent.name == "nested" else p.parent.name for p in ds.files_b
    ] == ["B", "B", "B"]
    item = ds[1]
    torch.testing.assert_close(item["input"].mean((1, 2)), _to_signed(RED), atol=1e-2, rtol=0)
    torch.testing.assert_close(item["target"].mean((1, 2)), _to_signed(BLUE), atol=2e-2, rtol=0)
    back = PairedDataset(
        tmp_path, layout="folders", direction="BtoA", crop_size=16, load_size=20, train=False
    )[1]
    torch.testing.assert_close(back["input"].mean((1, 2)), _to_signed(BLUE), atol=2e-2, rtol=0)


def test_paired_unmatched_names_error(tmp_path):
    (tmp_path / "A").mkdir()
    (tmp_path / "B").mkdir()
    for name in ["x", "y", "only_a"]:
        _solid(20, 20).save(tmp_path / "A" / f"{name}.png")
    for name in ["x", "y", "only_b"]:
        _solid(20, 20).save(tmp_path / "B" / f"{name}.png")
    with pytest.raises(InvalidInputError, match=r"do not match.*only_a.*only_b"):
        PairedDataset(tmp_path, layout="folders")


def test_paired_missing_folder_and_bad_config(tmp_path, side_by_side_dir):
    (tmp_path / "A").mkdir()
    with pytest.raises(InvalidInputError, match=r"missing \['B'\]"):
        PairedDataset(tmp_path, layout="folders")
    with pytest.raises(InvalidConfigError, match="load_size"):
        PairedDataset(side_by_side_dir, crop_size=64, load_size=32)
    with pytest.raises(InvalidConfigError, match="layout"):
        PairedDataset(side_by_side_dir, layout="stacked")
    with pytest.raises(InvalidConfigError, match="direction"):
        PairedDataset(side_by_side_dir, direction="AB")


def test_paired_skips_corrupt_files(side_by_side_dir):
    bad = _write_corrupt_files(side_by_side_dir)
    with pytest.warns(UserWarning) as record:
        ds = PairedDataset(side_by_side_dir, crop_size=16, load_size=20)
    assert len(_user_warnings(record)) == 1
    assert all(name in str(record[0].message) for name in bad)
    assert len(ds) == 3


# -- DataLoader -----------------------------------------------------------------------------


def test_dataloader_batches_all_datasets(photo_dir, side_by_side_dir):
    datasets = [
        (ColorizationDataset(photo_dir, crop_size=16), (1, 2)),
        (MissingRegionsDataset(photo_dir, crop_size=16), (2, 3)),
        (PairedDataset(side_by_side_dir, crop_size=16, load_size=20), (3, 3)),
    ]
    for ds, (c_in, c_out) in datasets:
        loader = DataLoader(ds, batch_size=2, shuffle=True, num_workers=0)
        batches = list(loader)
        assert sum(b["input"].shape[0] for b in batches) == len(ds)
        batch = batches[0]
        assert batch["input"].shape == (2, c_in, 16, 16)
        assert batch["target"].shape == (2, c_out, 16, 16)
        assert batch["index"].dtype == torch.int64
        if "mask" in batch:
            assert batch["mask"].shape == (2, 1, 16, 16)
        paths = [ds.files[i] for i in batch["index"].tolist()]
        assert all(isinstance(p, Path) and p.exists() for p in paths)


def test_dataset_indexing_errors(photo_dir):
    ds = ColorizationDataset(photo_dir, crop_size=8)
    with pytest.raises(IndexError):
        ds[len(ds)]
    assert ds[-1]["index"] == len(ds) - 1
    assert ds[np.int64(1)]["index"] == 1
