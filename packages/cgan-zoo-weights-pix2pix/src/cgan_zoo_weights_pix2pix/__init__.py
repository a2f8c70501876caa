"""cgan-zoo weights package cgan-zoo-weights-pix2pix: provides 'pix2pix_unet256.nature' (see registry.json)."""
