"""The demo's handler functions, called directly (no server, no browser), on tiny models."""

from __future__ import annotations

import os
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cgan_zoo import create_model
from cgan_zoo.demo import handlers
from cgan_zoo.demo.handlers import ModelCache
from cgan_zoo.errors import InvalidConfigError, InvalidInputError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    paths = {
        "plain": folder / "plain",
        "dropout": folder / "dropout",
        "missing": folder / "missing",
    }
    create_model("unet_tiny", dropout=0.0).save_pretrained(paths["plain"])
    create_model("unet_tiny", dropout=0.5).save_pretrained(paths["dropout"])
    create_model(
        "unet_tiny", task="colorize-missing", in_channels=2, out_channels=3
    ).save_pretrained(paths["missing"])
    return {k: str(v) for k, v in paths.items()}


@pytest.fixture
def cache(models):
    return ModelCache(list(models.values()), size=32)


def _photo(tmp_path, array, name="photo.png"):
    path = tmp_path / name
    Image.fromarray(array).save(path)
    return str(path)


def _colour(h=24, w=40):
    rng = np.random.default_rng(0)
    return rng.integers(0, 255, (h, w, 3), dtype=np.uint8)


# ---------------------------------------------------------------------------- isolation


def test_importing_cgan_zoo_never_imports_gradio_and_missing_gradio_names_the_extra():
    code = (
        "import sys\n"
        "import cgan_zoo, cgan_zoo.cli, cgan_zoo.demo.handlers, cgan_zoo.demo.app\n"
        "assert 'gradio' not in sys.modules, 'gradio was imported'\n"
        "sys.modules['gradio'] = None  # as if not installed\n"
        "from cgan_zoo.cli import main\n"
        "sys.exit(main(['demo', '--no-browser', '--port', '0']))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"},
    )
    assert proc.returncode == 1, proc.stderr
    assert 'pip install -e ".[demo]"' in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


def test_demo_is_a_cli_command():
    from cgan_zoo.cli import build_parser
    from cgan_zoo.demo.app import is_local_host

    args = build_parser().parse_args(["demo", "--no-browser"])
    assert (args.host, args.port, args.model, args.no_browser) == ("127.0.0.1", 7860, None, True)
    assert is_local_host(args.host) and is_local_host("localhost") and not is_local_host("0.0.0.0")


# ---------------------------------------------------------------------------- models


def test_model_cache_defaults_to_the_installed_pretrained_and_rejects_unknown_names():
    from cgan_zoo import list_pretrained

    if list_pretrained():
        assert ModelCache().models == list_pretrained()
    with pytest.raises(InvalidConfigError, match="not an installed pretrained colorizer"):
        ModelCache(["unet_efficientnet_lite0.natur"])


def test_options_report_dropout_and_temperature(cache, models):
    assert cache.options(models["dropout"]).stochastic
    assert not cache.options(models["plain"]).stochastic
    assert cache.task(models["missing"]) == "colorize-missing"
    with pytest.raises(InvalidInputError, match="not offered"):
        cache.get("elsewhere")


# ---------------------------------------------------------------------------- inputs


def test_colour_photo_becomes_gray_with_a_note_and_gray_stays_silent():
    gray, note = handlers.to_gray(Image.fromarray(_colour()))
    assert gray.mode == "L" and gray.size == (40, 24)
    assert "converted to gray first" in note
    assert handlers.to_gray(np.full((5, 7), 9, np.uint8))[1] == ""
    assert handlers.to_gray(np.full((5, 7, 3), 9, np.uint8))[1] == ""  # RGB but gray


def test_sixteen_bit_and_transparent_photos_are_converted_with_notes():
    deep, note = handlers.to_gray(Image.fromarray(np.full((4, 4), 65535, np.uint16)))
    assert np.asarray(deep).max() == 255 and "16-bit" in note
    _, note = handlers.to_gray(Image.new("RGBA", (4, 4), (10, 200, 30, 128)))
    assert "Transparency was ignored" in note


def test_text_file_missing_file_and_huge_photo_give_clear_errors(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a photo")
    with pytest.raises(InvalidInputError, match=r"'notes.txt' is not an image .*Upload a photo") as e:
        handlers.load_photo(text)
    assert str(tmp_path) not in str(e.value)  # no server paths in the page
    with pytest.raises(InvalidInputError, match="does not exist"):
        handlers.load_photo(tmp_path / "gone.png")
    with pytest.raises(InvalidInputError, match="no photo was given"):
        handlers.load_photo("")
    big = _photo(tmp_path, np.zeros((30, 40), np.uint8))
    with pytest.raises(InvalidInputError, match=r"40x30 pixels .*accepts up to"):
        handlers.load_photo(big, max_pixels=1000)
    assert handlers.load_photo(big, max_pixels=1200).size == (40, 30)


# ---------------------------------------------------------------------------- colorize


def test_colorize_photo_keeps_full_resolution_and_writes_the_png(tmp_path, cache, models):
    path = _photo(tmp_path, _colour(37, 53))
    r = handlers.colorize_photo(path, models["plain"], cache, out_dir=tmp_path)
    assert r.gray.size == r.color.size == (53, 37) and r.color.mode == "RGB"
    assert Path(r.png).name == "photo_colorized.png" and Path(r.png).parent.parent == tmp_path
    assert np.array_equal(np.asarray(Image.open(r.png)), np.asarray(r.color))
    assert "converted to gray first" in r.note and "53x37 pixels in" in r.note


class _Recording:
    """A colorizer that records what it is called with (and may claim the temperature knob)."""

    def __init__(self, inner, supports_temperature):
        self.inner, self.supports_temperature, self.calls = inner, supports_temperature, []
        self.task, self.generator, self.device = inner.task, inner.generator, inner.device
        self.temperature = 0.38

    def __call__(self, image, **kwargs):
        self.calls.append(kwargs)
        return self.inner(image)


@pytest.mark.parametrize("supported", [False, True])
def test_temperature_is_passed_only_to_colorizers_that_support_it(cache, models, supported, tmp_path):
    name = models["plain"]
    fake = _Recording(cache.get(name), supported)
    cache._loaded[(name, False)] = fake
    assert cache.options(name).temperature is supported
    assert cache.options(name).default_temperature == (0.38 if supported else None)
    handlers.colorize_photo(np.zeros((8, 8), np.uint8), name, cache, temperature=0.5, out_dir=tmp_path)
    assert fake.calls == ([{"temperature": 0.5}] if supported else [{}])


def test_stochastic_mode_is_seeded_and_falls_back_with_a_note(cache, models, tmp_path):
    gray = np.tile(np.arange(32, dtype=np.uint8) * 8, (32, 1))
    runs = [
        handlers.colorize_photo(
            gray, models["dropout"], cache, stochastic=True, seed=s, out_dir=tmp_path
        ).color
        for s in (1, 1, 2)
    ]
    a, b, c = (np.asarray(r) for r in runs)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    r = handlers.colorize_photo(gray, models["plain"], cache, stochastic=True, seed=1, out_dir=tmp_path)
    assert "has no dropout" in r.note


# ---------------------------------------------------------------------------- repair


def _editor(photo, painted=None):
    layer = np.zeros((*photo.shape[:2], 4), np.uint8)
    if painted is not None:
        layer[painted] = (255, 0, 255, 255)
    background = np.dstack([photo, np.full(photo.shape[:2], 255, np.uint8)])  # the editor's RGBA
    return {"background": background, "layers": [layer], "composite": background}


def test_repair_fills_brush_and_uploaded_mask(tmp_path, cache, models):
    photo = _colour(24, 32)
    mask = np.zeros((12, 16), np.uint8)
    mask[:, :4] = 255  # left quarter, uploaded at half size
    mask_path = _photo(tmp_path, mask, "mask.png")
    r = handlers.repair_photo(
        _editor(photo, (slice(0, 4), slice(28, 32))), mask_path, models["missing"], cache, out_dir=tmp_path
    )
    got = np.asarray(r.mask) > 0
    assert got[:, :8].all() and got[:4, 28:].all() and got.sum() == 24 * 8 + 16
    assert "resized" in r.note and "Transparency" not in r.note
    assert r.result.size == r.fill.size == (32, 24)
    fill = np.asarray(r.fill)
    assert np.array_equal(fill[got], np.asarray(r.result)[got])


def test_repair_refuses_no_photo_no_mask_and_a_plain_colorizer(cache, models):
    photo = _colour(16, 16)
    with pytest.raises(InvalidInputError, match="upload a photo into the editor"):
        handlers.repair_photo(None, None, models["missing"], cache)
    with pytest.raises(InvalidInputError, match="no missing region was marked"):
        handlers.repair_photo(_editor(photo), None, models["missing"], cache)
    with pytest.raises(InvalidInputError, match="not trained for missing regions"):
        handlers.repair_photo(_editor(photo, (slice(0, 4),)), None, models["plain"], cache)


# ---------------------------------------------------------------------------- compare, video


def test_compare_runs_every_model_on_the_same_photo(cache, models):
    items, _ = handlers.compare_models(
        np.zeros((12, 20), np.uint8), [models["plain"], models["dropout"]], cache
    )
    assert [caption.split(" ")[0] for _, caption in items] == ["input", "plain", "dropout"]
    assert {image.size for image, _ in items} == {(20, 12)}
    with pytest.raises(InvalidInputError, match="no model was chosen"):
        handlers.compare_models(np.zeros((4, 4), np.uint8), [], cache)


@pytest.mark.requires_extra("video")
def test_clip_errors_are_clear(tmp_path, cache, models):
    text = tmp_path / "clip.mp4"
    text.write_text("not a video")
    with pytest.raises(InvalidInputError, match="cannot read video"):
        handlers.colorize_clip(text, models["plain"], cache, out_dir=tmp_path, progress=False)
    sound = tmp_path / "sound.wav"
    with wave.open(str(sound), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000)
        w.writeframes(np.zeros(800, np.int16).tobytes())
    with pytest.raises(InvalidInputError, match="has no video stream"):
        handlers.colorize_clip(sound, models["plain"], cache, out_dir=tmp_path, progress=False)
    with pytest.raises(InvalidInputError, match="no clip was given"):
        handlers.colorize_clip(None, models["plain"], cache)


# ---------------------------------------------------------------------------- app


@pytest.mark.slow  # importing gradio takes seconds; the browser test covers the page by default
@pytest.mark.requires_extra("demo")
def test_page_shows_library_errors_as_messages_and_builds(cache, models):
    import gradio as gr

    from cgan_zoo.demo.app import _guard, _upload_dir, build_app

    def bad():
        raise InvalidInputError("the photo is broken; upload another")

    def bug():
        raise KeyError("x")

    with pytest.raises(gr.Error, match="the photo is broken"):
        _guard(gr, bad)()
    with pytest.raises(gr.Error, match="unexpected KeyError.*still running"):
        _guard(gr, bug)()

    def leaky():
        upload = os.path.join(_upload_dir(), "0123456789abcdef0123", "clip.txt")
        raise InvalidInputError(f"cannot read video {upload!r}: bad data")

    with pytest.raises(gr.Error) as shown:
        _guard(gr, leaky)()
    assert shown.value.message == "cannot read video 'clip.txt': bad data"
    app = build_app(cache)
    assert isinstance(app, gr.Blocks) and app.title == "cgan-zoo demo"
    # every run button has a Cancel button wired to it
    deps = app.config["dependencies"]
    runs = {d["id"] for d in deps if d.get("api_name") in ("colorize", "repair", "compare", "video")}
    cancelled = {i for d in deps for i in (d.get("cancels") or [])}
    assert len(runs) == 4 and runs <= cancelled, (runs, cancelled)
