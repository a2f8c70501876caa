"""scripts/rebuild_nature_data.py on a tiny fake .deb and a fake wheel (no network, no apt)."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "rebuild_nature_data.py"


def _load():
    spec = importlib.util.spec_from_file_location("_script_rebuild_nature_data", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses need the module registered
    spec.loader.exec_module(module)
    return module


rb = _load()
HEADER = "package\tversion\tpath_inside\tsha256\tfile"


def _image_bytes(fmt: str, size=(24, 16), **kw) -> bytes:
    rng = np.random.default_rng(len(fmt))
    img = Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3)).astype(np.uint8))
    if fmt == "GIF":
        img = img.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _tar_xz(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _ar(members: dict[str, bytes]) -> bytes:
    out = [b"!<arch>\n"]
    for name, data in members.items():
        header = f"{name:<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(data):<10}`\n".encode()
        assert len(header) == 60
        out += [header, data, b"\n" if len(data) % 2 else b""]
    return b"".join(out)


@pytest.fixture
def setup(tmp_path):
    png = _image_bytes("PNG", size=(30, 20))
    gif = _image_bytes("GIF")
    jpg = _image_bytes("JPEG", quality=95)
    template = io.BytesIO()
    with zipfile.ZipFile(template, "w") as zf:
        zf.writestr("Pictures/photo.jpg", jpg)
    deb = _ar(
        {
            "debian-binary": b"2.0\n",
            "control.tar.xz": _tar_xz({"./control": b"Package: fake-photos\n"}),
            "data.tar.xz": _tar_xz(
                {
                    "./usr/share/fake/sky.png": png,
                    "./usr/share/fake/flowers.gif": gif,
                    "./usr/share/fake/tpl.otp": template.getvalue(),
                }
            ),
        }
    )
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "fake-photos_1%3a2.0-1_all.deb").write_bytes(deb)  # apt-get's name for epoch 1:
    wheel = io.BytesIO()
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("fakepkg/data/leaf.png", png)
    (cache / "fakepkg-0.3-py3-none-any.whl").write_bytes(wheel.getvalue())

    def sha(b: bytes) -> str:
        return hashlib.sha256(b).hexdigest()

    manifest = tmp_path / "MANIFEST.tsv"
    manifest.write_text(
        f"{HEADER}\tcrop\n"
        f"fake-photos\t1:2.0-1\tusr/share/fake/sky.png\t{sha(png)}\tfake_sky.jpg\t0,0,20,10\n"
        f"fake-photos\t1:2.0-1\tusr/share/fake/flowers.gif\t{sha(gif)}\tfake_flowers.jpg\t\n"
        f"fake-photos\t1:2.0-1\tusr/share/fake/tpl.otp::Pictures/photo.jpg\t{sha(jpg)}\tfake_tpl.png\t\n"
        f"pypi:fakepkg\t0.3\tfakepkg/data/leaf.png\t{sha(png)}\tfake_leaf.jpg\t\n"
    )
    (tmp_path / "SOURCES.tsv").write_text(
        "file\tlicense\tsubject\tattribution_note\nfake_sky.jpg\tCC0-1.0\tsky\tAlice\n"
    )
    return tmp_path, manifest, cache


def test_parse_manifest(setup):
    _, manifest, _ = setup
    entries = rb.parse_manifest(manifest)
    assert [e.file for e in entries] == ["fake_sky.jpg", "fake_flowers.jpg", "fake_tpl.png", "fake_leaf.jpg"]
    assert entries[0].crop() == (0, 0, 20, 10) and entries[1].crop() is None
    assert entries[3].is_pypi and entries[3].name == "fakepkg"
    assert [e.file for e in rb.parse_manifest(manifest, only=["fakepkg"])] == ["fake_leaf.jpg"]
    assert rb.deb_filename_glob("fake-photos", "1:2.0-1") == "fake-photos_1%3a2.0-1_*.deb"
    # the crop of the GIMP splash is applied although the manifest does not record it
    gimp = rb.Entry("gimp-data", "2.10", "usr/share/gimp/2.0/images/gimp-splash.png", "0" * 64, "g.jpg")
    assert gimp.crop() == (0, 0, 1040, 1080)


def test_rebuild_from_cache(setup):
    tmp, manifest, cache = setup
    out = tmp / "out"
    assert rb.main([str(manifest), str(out), "--cache", str(cache), "--no-download"]) == 0
    sky = Image.open(out / "fake_sky.jpg")
    assert sky.format == "JPEG" and sky.size == (20, 10)  # cropped
    assert Image.open(out / "fake_flowers.jpg").mode == "RGB"  # GIF palette decoded
    assert Image.open(out / "fake_tpl.png").size == (24, 16)  # member of a zip inside the .deb
    assert Image.open(out / "fake_leaf.jpg").size == (30, 20)  # from the wheel
    lines = (out / "SOURCES.tsv").read_text().splitlines()
    assert lines[0].split("\t") == list(rb.SOURCES_COLUMNS)
    rows = {line.split("\t")[0]: line.split("\t") for line in lines[1:]}
    assert rows["fake_sky.jpg"][1:8] == ["fake-photos", "1:2.0-1", "usr/share/fake/sky.png", "CC0-1.0", "sky", "20", "10"]
    assert rows["fake_sky.jpg"][8] == str((out / "fake_sky.jpg").stat().st_size) and rows["fake_sky.jpg"][9] == "Alice"
    assert "usr/share/doc/fake-photos/copyright" in rows["fake_flowers.jpg"][4]  # no licence recorded
    assert rows["fake_leaf.jpg"][1] == "fakepkg"


def test_wrong_sha256_is_a_clear_error(setup, capsys):
    tmp, manifest, cache = setup
    text = manifest.read_text().splitlines()
    fields = text[1].split("\t")
    fields[3] = "0" * 64
    manifest.write_text("\n".join([text[0], "\t".join(fields)]) + "\n")
    out = tmp / "out"
    assert rb.main([str(manifest), str(out), "--cache", str(cache), "--no-download"]) == 1
    err = capsys.readouterr().err
    assert "sha256 mismatch for 'fake_sky.jpg'" in err and "expected " + "0" * 64 in err
    assert not (out / "fake_sky.jpg").exists()  # nothing written for a bad original


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("tuxpaint-stamps\t1\ta.png\t" + "a" * 64 + "\tx.jpg", "kept for independent checks"),
        ("enlightenment-data\t1\ta.png\t" + "a" * 64 + "\tx.jpg", "kept for independent checks"),
        ("pypi:cimg\t1\ta.png\t" + "a" * 64 + "\tx.jpg", "kept for independent checks"),
        ("pkg\t1\ta.png\tnot-a-hash\tx.jpg", "is not 64 hex digits"),
        ("pkg\t1\ta.png\t" + "a" * 64 + "\t../x.jpg", "plain file name"),
        ("pkg\t1\t\t" + "a" * 64 + "\tx.jpg", "has no path_inside"),
    ],
)
def test_manifest_errors(tmp_path, row, message):
    manifest = tmp_path / "MANIFEST.tsv"
    manifest.write_text(f"{HEADER}\n{row}\n")
    with pytest.raises(rb.RebuildError, match=message):
        rb.parse_manifest(manifest)


def test_missing_columns_and_package(tmp_path, setup):
    bad = tmp_path / "bad.tsv"
    bad.write_text("package\tversion\nx\t1\n")
    with pytest.raises(rb.RebuildError, match="lacks the column"):
        rb.parse_manifest(bad)
    _, manifest, _ = setup
    with pytest.raises(rb.RebuildError, match="not in the cache"):
        rb.rebuild(manifest, tmp_path / "o", tmp_path / "empty-cache", allow_download=False)


def test_committed_landscapes_manifest_parses():
    folder = Path(__file__).resolve().parents[1] / "recipes" / "data" / "landscapes"
    entries = rb.parse_manifest(folder / "MANIFEST.tsv")
    assert len(entries) == 234
    meta = rb.read_metadata(folder / "SOURCES.tsv")
    assert {e.file for e in entries} == set(meta)
    assert all(meta[e.file]["license"] and meta[e.file]["package"] == e.package for e in entries)
    crops = [e for e in entries if e.crop() is not None]
    assert [e.file for e in crops] == ["gimp_gimp-splash.jpg"]
