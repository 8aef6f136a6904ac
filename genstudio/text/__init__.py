"""Text for the conditional models (Qt-free): a word-level tokenizer and a small text encoder.

:mod:`genstudio.text.tokenizer` turns a prompt into token ids with a vocabulary built from the
training captions (unknown words are reported, never dropped); :mod:`genstudio.text.encoder` turns
the ids into per-token embeddings and one pooled embedding, trained with the U-Net that reads them.
"""
