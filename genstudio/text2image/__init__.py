"""Text to image: a diffusion model conditioned on a caption, steered by classifier-free guidance.

The ``text2image`` family (registered in :mod:`genstudio.families`): :mod:`.trainer` trains the
text-conditioned U-Net (:mod:`genstudio.models.cond_unet`, its text encoder inside) on a captioned
data set (:mod:`genstudio.data.captions`), dropping the caption for a share of items so the same
network also learns ε̂_∅; :mod:`.model` samples it with a prompt through the one sampling API
(:mod:`genstudio.sampling`, any registered sampler) and :mod:`genstudio.diffusion.guidance`.
"""
