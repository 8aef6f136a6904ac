"""Denoising diffusion (Ho et al. 2020; Song et al. 2021), one idea per module (Qt-free).

``schedule`` (β schedules, q(x_t | x_0), the posterior) · ``noise`` (per-sample seeded noise) ·
``trajectory`` (a sampler's recorded steps) · ``samplers`` (the DDPM / DDIM step generators) ·
``model`` (a trained model, ready to sample) · ``trainer`` (the ε-prediction training step). The
sampling API with its sampler registry is :mod:`genstudio.sampling`.
"""
