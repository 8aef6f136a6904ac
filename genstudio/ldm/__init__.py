"""Latent diffusion (Rombach et al. 2022): the text-to-image model trained in an autoencoder's latent space.

``latents`` encodes a data set, the unit-variance scale factor and the linear latent → RGB preview ·
``trainer`` trains the text-conditioned U-Net on the scaled latents · ``model`` samples latents and
decodes them through the autoencoder it carries.
"""
