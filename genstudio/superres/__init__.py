"""Super-resolution ×4: SRResNet and SRGAN (Ledig et al. 2017, arXiv 1609.04802) as two model
families (``srresnet``, ``srgan``) of the family registry. Qt-free.

``degrade`` makes LR/HR pairs (bicubic ×¼) and the held-out split · ``metrics`` PSNR, SSIM and a
sharpness figure · ``content`` the content-loss feature spaces · ``trainer`` the two training stages ·
``model`` a trained generator (tiled upscaling of any image) · ``score`` held-out scores beside bicubic.
"""
