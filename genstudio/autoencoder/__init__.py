"""The autoencoder family: a small KL-VAE, the first stage of latent diffusion (Rombach et al. 2022).

``trainer`` trains it (reconstruction + a small KL term) · ``model`` a trained one (encode, decode,
reconstruct) · ``score`` ``genstudio score``: reconstruction PSNR on held-out images · ``view`` the
numbers the app's Autoencoder tab draws.
"""
