"""Generative adversarial networks (Goodfellow et al. 2014; DCGAN, Radford et al. 2015), Qt-free.

``losses`` (the D and G losses) · ``trainer`` (architectures from a config, the training step, the
2-D discriminator field) · ``model`` (a trained generator, ready to sample and explore).
"""
