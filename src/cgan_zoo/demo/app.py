"""The Gradio page of ``cgan-zoo demo``: four tabs around :mod:`cgan_zoo.demo.handlers`.

Gradio (the ``[demo]`` extra) is imported only inside :func:`require_gradio`, so this
module can be imported, and its docstrings tested, without it. The page never reaches
the network: analytics are off, nothing is shared, fonts are Gradio's bundled ones and
server-side rendering (which needs Node) is off.

Errors that the library raises on purpose are shown in the page as their message;
anything unexpected is logged on the server console and shown as one line. Either way
the server keeps running.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import tempfile
from collections.abc import Callable
from typing import Any

from ..errors import CganZooError, MissingExtraError
from . import handlers
from .handlers import ModelCache

__all__ = ["require_gradio", "build_app", "launch", "is_local_host", "INSTALL_HINT"]

#: How to install what the demo needs.
INSTALL_HINT = 'pip install -e ".[demo]"  (or: pip install "cgan-zoo[demo]")'

_log = logging.getLogger(__name__)
_PREVIEW_SIDE = 1024
_EXPECTED = (CganZooError, ValueError, TypeError, OSError)


def require_gradio() -> Any:
    """Import Gradio with analytics off, or raise a clear error naming the install command.

    Returns:
        The ``gradio`` module.

    Raises:
        MissingExtraError: If Gradio is not installed.

    Example:
        >>> import sys
        >>> saved = sys.modules.get("gradio")
        >>> sys.modules["gradio"] = None  # as if it were not installed
        >>> try:
        ...     require_gradio()
        ... except MissingExtraError as exc:
        ...     print(str(exc).split("Install it with: ")[1])
        pip install -e ".[demo]"  (or: pip install "cgan-zoo[demo]")
        >>> if saved is None:
        ...     del sys.modules["gradio"]
        ... else:
        ...     sys.modules["gradio"] = saved
    """
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ.setdefault("GRADIO_SSR_MODE", "False")
    try:
        import gradio
    except ImportError as exc:
        raise MissingExtraError(
            f"the demo needs the optional package 'gradio', which is not installed ({exc}). "
            f"Install it with: {INSTALL_HINT}"
        ) from exc
    return gradio


def is_local_host(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine.

    Example:
        >>> is_local_host("127.0.0.1"), is_local_host("0.0.0.0")
        (True, False)
    """
    return host in ("localhost", "::1") or host.startswith("127.")


def _upload_dir() -> str:
    return os.environ.get("GRADIO_TEMP_DIR") or os.path.join(tempfile.gettempdir(), "gradio")


def _for_page(message: str) -> str:
    """The message without the server's upload folders: ``/tmp/gradio/<hash>/x.jpg`` -> ``x.jpg``."""
    return re.sub(re.escape(_upload_dir()) + r"[\\/][0-9a-f]+[\\/]", "", message)


def _guard(gr: Any, fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn errors into a message in the page (never a traceback), keeping the server up."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except _EXPECTED as exc:
            raise gr.Error(_for_page(str(exc)), print_exception=False) from None
        except Exception as exc:  # an unexpected bug: log it, show one line, stay up
            _log.exception("cgan-zoo demo: unexpected error in %s", fn.__name__)
            raise gr.Error(
                f"unexpected {type(exc).__name__}: {_for_page(str(exc))}. The server is still running; the full "
                "traceback is in the terminal that runs `cgan-zoo demo`.",
                print_exception=False,
            ) from None

    return wrapper


def _preview(image: Any) -> Any:
    if max(image.size) <= _PREVIEW_SIDE:
        return image
    preview = image.copy()
    preview.thumbnail((_PREVIEW_SIDE, _PREVIEW_SIDE))
    return preview


def build_app(cache: ModelCache, *, out_dir: str | os.PathLike | None = None) -> Any:
    """Build the demo page (not started).

    Args:
        cache: The models the page offers.
        out_dir: Folder for results offered for download (a temporary folder by default).

    Returns:
        A ``gradio.Blocks`` with the tabs Colorize, Repair, Compare and Video.

    Raises:
        MissingExtraError: If Gradio is not installed.

    Example:
        >>> import tempfile
        >>> from cgan_zoo import create_model
        >>> folder = tempfile.mkdtemp()
        >>> create_model("unet_tiny").save_pretrained(folder)
        >>> cache = ModelCache([folder], size=32)
        >>> app = build_app(cache)  # doctest: +SKIP
        >>> app.launch(server_name="127.0.0.1", server_port=7860)  # doctest: +SKIP
    """
    gr = require_gradio()
    models = cache.models
    missing_models = [m for m in models if cache.task(m) == "colorize-missing"]
    color_models = [m for m in models if m not in missing_models] or models

    # Gradio passes a live progress tracker to parameters whose default is a gr.Progress
    step_progress = gr.Progress()
    tqdm_progress = gr.Progress(track_tqdm=True)

    def guard(fn: Callable[..., Any]) -> Callable[..., Any]:
        return _guard(gr, fn)

    def knobs(model: str) -> tuple[Any, Any, Any]:
        if not model:
            return gr.update(visible=False), gr.update(visible=False), gr.update(visible=False)
        options = cache.options(model)
        temperature = gr.update(visible=options.temperature)
        if options.temperature and options.default_temperature is not None:
            temperature = gr.update(visible=True, value=options.default_temperature)
        return (
            temperature,
            gr.update(visible=options.stochastic, value=False),
            gr.update(visible=options.stochastic),
        )

    def temperature_of(model: str, value: float | None) -> float | None:
        return value if model and cache.options(model).temperature else None

    def preview(path: str | None) -> tuple[Any, str]:
        if not path:
            return None, ""
        gray, note = handlers.to_gray(handlers.load_photo(path))
        return _preview(gray), note

    def colorize(
        path: str | None,
        model: str,
        temperature: float | None,
        stochastic: bool,
        seed: float | None,
        progress: Any = step_progress,
    ) -> tuple[Any, str, str]:
        progress(0.1, desc=f"loading {model}")
        cache.get(model)
        progress(0.3, desc="colorizing")
        result = handlers.colorize_photo(
            path,
            model,
            cache,
            temperature=temperature_of(model, temperature),
            stochastic=bool(stochastic),
            seed=None if seed is None else int(seed),
            out_dir=out_dir,
        )
        return (result.gray, result.color), result.png, result.note

    def repair(
        editor: Any,
        mask_file: str | None,
        model: str,
        temperature: float | None,
        progress: Any = step_progress,
    ) -> tuple[Any, Any, Any, str, str]:
        if not model:
            raise handlers.InvalidInputError(
                "no model for missing regions is installed; start the demo with "
                "--model unet_efficientnet_lite0.nature_missing (or another colorize-missing model)."
            )
        progress(0.2, desc="filling the missing regions")
        r = handlers.repair_photo(
            editor, mask_file, model, cache, temperature=temperature_of(model, temperature),
            out_dir=out_dir,
        )
        return r.mask, r.fill, r.result, r.png, r.note

    def compare(path: str | None, chosen: list[str], progress: Any = step_progress) -> tuple[Any, str]:
        progress(0.1, desc=f"colorizing with {len(chosen or [])} model(s)")
        items, note = handlers.compare_models(path, chosen or [], cache)
        return items, note

    def video(path: str | None, model: str, progress: Any = tqdm_progress) -> tuple[Any, Any, str]:
        progress(0.0, desc=f"loading {model}")
        out, note = handlers.colorize_clip(
            path, model, cache, out_dir=out_dir, progress=True,
            on_start=lambda: progress(0.05, desc="colorizing frames"),
        )
        return out, out, note

    # uploads and results older than an hour are deleted, checked every hour
    with gr.Blocks(title="cgan-zoo demo", analytics_enabled=False, delete_cache=(3600, 3600)) as app:
        gr.Markdown(
            "# cgan-zoo demo\n"
            "Colorize gray photos, repair missing regions, compare models and colorize short "
            "clips with the installed pretrained colorizers. Everything runs on this machine."
        )
        with gr.Tabs():
            with gr.Tab("Colorize", id="colorize"):
                with gr.Row():
                    with gr.Column(scale=1):
                        c_photo = gr.File(
                            label="Photo (drop or click; colour photos are turned gray)",
                            type="filepath", elem_id="colorize-photo",
                        )
                        c_preview = gr.Image(
                            label="What the model sees", type="pil", format="png",
                            interactive=False, elem_id="colorize-preview", height=220,
                        )
                        c_model = gr.Dropdown(
                            choices=models, value=color_models[0], label="Model",
                            elem_id="colorize-model",
                        )
                        c_temperature = gr.Slider(
                            0.05, 1.0, value=0.38, step=0.01, visible=False,
                            label="Colour uncertainty (temperature)",
                            info="1 = the mean colour (safe, muted); smaller = more vivid",
                            elem_id="colorize-temperature",
                        )
                        c_stochastic = gr.Checkbox(
                            label="Stochastic (dropout on: another colouring per seed)",
                            visible=False, elem_id="colorize-stochastic",
                        )
                        c_seed = gr.Number(
                            label="Seed", value=0, precision=0, visible=False,
                            elem_id="colorize-seed",
                        )
                        with gr.Row():
                            c_run = gr.Button("Colorize", variant="primary", elem_id="colorize-run")
                            c_stop = gr.Button("Cancel", elem_id="colorize-cancel")
                    with gr.Column(scale=2):
                        c_slider = gr.ImageSlider(
                            label="Before / after (drag the handle)", type="pil", format="png",
                            elem_id="colorize-result", max_height=900,
                            buttons=["download", "fullscreen"],
                        )
                        c_download = gr.File(label="Download PNG", elem_id="colorize-download")
                        c_note = gr.Markdown(elem_id="colorize-note")
                c_photo.upload(guard(preview), c_photo, [c_preview, c_note])
                c_model.change(guard(knobs), c_model, [c_temperature, c_stochastic, c_seed])
                c_job = c_run.click(
                    guard(colorize),
                    [c_photo, c_model, c_temperature, c_stochastic, c_seed],
                    [c_slider, c_download, c_note],
                )
                c_stop.click(None, None, None, cancels=[c_job])

            with gr.Tab("Repair", id="repair"):
                with gr.Row():
                    with gr.Column(scale=1):
                        r_editor = gr.ImageEditor(
                            label="Photo: paint over the missing or damaged regions",
                            type="numpy", image_mode="RGBA", format="png",
                            sources=["upload", "clipboard"], layers=False, transforms=(),
                            brush=gr.Brush(colors=["#ff00ff"], color_mode="fixed", default_size=24),
                            elem_id="repair-editor",
                        )
                        r_mask = gr.File(
                            label="…or upload a mask (white = missing)", type="filepath",
                            elem_id="repair-mask",
                        )
                        r_model = gr.Dropdown(
                            choices=missing_models,
                            value=missing_models[0] if missing_models else None,
                            label="Model for missing regions", elem_id="repair-model",
                        )
                        r_temperature = gr.Slider(
                            0.05, 1.0, value=0.38, step=0.01, visible=False,
                            label="Colour uncertainty (temperature)",
                            elem_id="repair-temperature",
                        )
                        with gr.Row():
                            r_run = gr.Button("Repair", variant="primary", elem_id="repair-run")
                            r_stop = gr.Button("Cancel", elem_id="repair-cancel")
                    with gr.Column(scale=2):
                        with gr.Row():
                            r_mask_out = gr.Image(label="Mask", type="pil", format="png", interactive=False)
                            r_fill = gr.Image(label="Fill", type="pil", format="png", interactive=False)
                        r_result = gr.Image(
                            label="Result", type="pil", format="png", interactive=False,
                            elem_id="repair-result",
                        )
                        r_download = gr.File(label="Download PNG")
                        r_note = gr.Markdown(elem_id="repair-note")
                r_model.change(
                    guard(lambda m: knobs(m)[0]), r_model, r_temperature
                )
                r_job = r_run.click(
                    guard(repair),
                    [r_editor, r_mask, r_model, r_temperature],
                    [r_mask_out, r_fill, r_result, r_download, r_note],
                )
                r_stop.click(None, None, None, cancels=[r_job])

            with gr.Tab("Compare", id="compare"):
                with gr.Row():
                    with gr.Column(scale=1):
                        k_photo = gr.File(label="Photo", type="filepath", elem_id="compare-photo")
                        k_models = gr.CheckboxGroup(
                            choices=models, value=models, label="Models", elem_id="compare-models"
                        )
                        with gr.Row():
                            k_run = gr.Button("Compare", variant="primary", elem_id="compare-run")
                            k_stop = gr.Button("Cancel", elem_id="compare-cancel")
                    with gr.Column(scale=3):
                        k_gallery = gr.Gallery(
                            label="Side by side", format="png", columns=len(models) + 1,
                            object_fit="contain", elem_id="compare-gallery",
                        )
                        k_note = gr.Markdown(elem_id="compare-note")
                k_job = k_run.click(guard(compare), [k_photo, k_models], [k_gallery, k_note])
                k_stop.click(None, None, None, cancels=[k_job])

            with gr.Tab("Video", id="video"):
                with gr.Row():
                    with gr.Column(scale=1):
                        v_clip = gr.File(label="Short clip (mp4, mkv, webm…)", type="filepath", elem_id="video-clip")
                        v_model = gr.Dropdown(
                            choices=models, value=color_models[0], label="Model", elem_id="video-model"
                        )
                        with gr.Row():
                            v_run = gr.Button("Colorize clip", variant="primary", elem_id="video-run")
                            v_stop = gr.Button("Cancel", elem_id="video-cancel")
                    with gr.Column(scale=2):
                        v_out = gr.Video(label="Colorized clip", elem_id="video-result")
                        v_download = gr.File(label="Download")
                        v_note = gr.Markdown(elem_id="video-note")
                v_job = v_run.click(guard(video), [v_clip, v_model], [v_out, v_download, v_note])
                v_stop.click(None, None, None, cancels=[v_job])

        app.load(guard(knobs), c_model, [c_temperature, c_stochastic, c_seed])
        if missing_models:
            app.load(guard(lambda m: knobs(m)[0]), r_model, r_temperature)
    app.queue(max_size=32)
    return app


def launch(
    cache: ModelCache,
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    open_browser: bool = False,
    out_dir: str | os.PathLike | None = None,
    max_file_size: str = "200mb",
) -> tuple[Any, str]:
    """Start the demo server in the background; returns ``(app, local URL)``.

    The caller keeps the process alive (``app.block_thread()``) and stops it with
    ``app.close()``. Nothing is shared publicly.

    Args:
        cache: The models the page offers.
        host: Interface to listen on (``127.0.0.1`` = only this machine).
        port: TCP port.
        open_browser: Open the page in the default browser.
        out_dir: Folder for downloadable results.
        max_file_size: Largest upload Gradio accepts.

    Raises:
        MissingExtraError: If Gradio is not installed.
        OSError: If the port is taken.

    Example:
        >>> is_local_host("127.0.0.1")  # launch() itself starts a server; see cgan-zoo demo
        True
    """
    app = build_app(cache, out_dir=out_dir)
    allowed = [os.fspath(out_dir)] if out_dir is not None else None
    _, url, _ = app.launch(
        server_name=host,
        server_port=port,
        inbrowser=open_browser,
        share=False,
        prevent_thread_lock=True,
        quiet=True,
        show_error=False,
        ssr_mode=False,
        pwa=False,
        mcp_server=False,
        enable_monitoring=False,
        max_file_size=max_file_size,
        allowed_paths=allowed,
        footer_links=["settings"],
    )
    return app, url
