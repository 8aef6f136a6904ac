"""The style-based generator family (StyleGAN2 at small scale): trainer, model and the latent tools
(truncation in W, style mixing, layer views, per-layer noise) that the Latent view shows."""
