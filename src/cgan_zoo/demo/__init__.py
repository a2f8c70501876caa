"""The ``cgan-zoo demo`` web app: colorize, repair, compare and colorize video in a browser.

The app is split in two so it can be tested without a server:

- :mod:`cgan_zoo.demo.handlers` holds plain functions that take file paths, numpy
  arrays or PIL images and return PIL images, paths and notes. They use only the
  library's public API (:class:`~cgan_zoo.pipelines.Colorizer`,
  :func:`~cgan_zoo.list_pretrained`, :func:`~cgan_zoo.pipelines.colorize_video`) and
  never import Gradio.
- :mod:`cgan_zoo.demo.app` builds the Gradio ``Blocks`` page around them
  (``pip install -e ".[demo]"``); Gradio is imported only when the app is built.

Importing :mod:`cgan_zoo` never imports this package.

Example:
    >>> from cgan_zoo.demo import handlers
    >>> handlers.MAX_PIXELS
    50000000
"""
