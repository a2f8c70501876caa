"""Pretrained weights bundled with the wheel, and their registry entries."""
