"""A word-level tokenizer built from the training captions (Qt-free).

Text is lower-cased and split into words (runs of letters and digits) and single punctuation marks:
``"A handwritten 7."`` → ``["a", "handwritten", "7", "."]``. The vocabulary is every token the
captions use, sorted, after two specials:

* ``<pad>`` (id 0) fills a sequence up to ``max_len``; the encoder's attention never looks at it;
* ``<null>`` (id 1) is the *null caption* of classifier-free guidance (Ho & Salimans 2022): the
  sequence ``[<null>, <pad>, …]``, whose embedding the model learns by seeing it in place of the
  caption for a share of the training items. The empty prompt is this sequence.

A prompt with a word the captions never used is refused with :class:`UnknownWordsError`, which
lists every such word and the vocabulary: a word is never silently dropped, because a model that
ignores "blue" in "a blue star" would look like a model that cannot draw blue.

The vocabulary travels in the checkpoint header (``meta["text"]``: ``{"words": [...], "max_len": L}``)
and :meth:`Tokenizer.from_meta` checks it before any weight is used.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Sequence

import torch

__all__ = ["PAD", "NULL", "SPECIALS", "MAX_WORDS", "MAX_WORD_CHARS", "words", "UnknownWordsError",
           "PromptTooLongError", "Tokenizer"]

PAD, NULL = "<pad>", "<null>"
SPECIALS = (PAD, NULL)
MAX_WORDS = 4096  # the largest vocabulary a header may hold (an architecture argument's bound)
MAX_WORD_CHARS = 40
MAX_LEN = 64  # the longest token sequence a model may take
_TOKEN = re.compile(r"[a-z0-9]+|[^\sa-z0-9]")  # a word, or one punctuation mark


def words(text: str) -> list[str]:
    """``text`` lower-cased and split into tokens: words and single punctuation marks."""
    return _TOKEN.findall(text.lower())


class UnknownWordsError(ValueError):
    """A prompt holds words the model's vocabulary lacks; ``unknown`` lists them, in prompt order."""

    def __init__(self, prompt: str, unknown: Sequence[str], vocabulary: Sequence[str]):
        self.prompt, self.unknown = prompt, tuple(unknown)
        known = ", ".join(vocabulary[:40]) + (", …" if len(vocabulary) > 40 else "")
        listed = ", ".join(repr(w) for w in self.unknown)
        super().__init__(f"the prompt {prompt!r} has {'a word' if len(self.unknown) == 1 else 'words'} the model "
                         f"never saw in its captions: {listed} (it knows: {known})")


class PromptTooLongError(ValueError):
    """A prompt has more tokens than the model reads."""


class Tokenizer:
    """Word ids for prompts: ``encode("a handwritten 7")`` → LongTensor (max_len,).

    Parameters
    ----------
    vocab : the tokens, ``<pad>`` and ``<null>`` first (as :meth:`build` makes it).
    max_len : the sequence length every prompt is padded to.
    """

    def __init__(self, vocab: Sequence[str], max_len: int):
        vocab = list(vocab)
        if tuple(vocab[:2]) != SPECIALS:
            raise ValueError(f"a vocabulary starts with {PAD} and {NULL}")
        if len(set(vocab)) != len(vocab):
            raise ValueError("a vocabulary lists each word once")
        if not 1 <= max_len <= MAX_LEN:
            raise ValueError(f"max_len must lie in 1 … {MAX_LEN}, not {max_len}")
        self.vocab, self.max_len = vocab, int(max_len)
        self.ids = {w: i for i, w in enumerate(vocab)}

    @classmethod
    def build(cls, captions: Iterable[str], max_len: int | None = None) -> "Tokenizer":
        """The tokenizer of ``captions``: every token they use; ``max_len`` their longest (by default)."""
        seen: set[str] = set()
        longest = 1
        for caption in captions:
            tokens = words(caption)
            seen.update(tokens)
            longest = max(longest, len(tokens))
        vocab = [*SPECIALS, *sorted(seen)]
        if len(vocab) > MAX_WORDS:
            raise ValueError(f"the captions use {len(vocab) - 2:,} different words; at most "
                             f"{MAX_WORDS - 2:,} fit a model's vocabulary")
        if longest > MAX_LEN:
            raise ValueError(f"a caption has {longest} words; at most {MAX_LEN} fit")
        return cls(vocab, max_len or longest)

    # -- prompts → ids ----------------------------------------------------------------
    def unknown(self, prompt: str) -> list[str]:
        """The words of ``prompt`` the vocabulary lacks, each once, in prompt order."""
        return list(dict.fromkeys(w for w in words(prompt) if w not in self.ids or w in SPECIALS))

    def encode(self, prompt: str) -> torch.Tensor:
        """``prompt`` as ids (max_len,) int64; "" (or only spaces) is the null caption.

        Raises
        ------
        UnknownWordsError
            A word is not in the vocabulary (all of them are listed).
        PromptTooLongError
            More tokens than ``max_len``.
        """
        tokens = words(prompt)
        if not tokens:
            return self.null()
        missing = self.unknown(prompt)
        if missing:
            raise UnknownWordsError(prompt, missing, self.vocab[2:])
        if len(tokens) > self.max_len:
            raise PromptTooLongError(f"the prompt {prompt!r} has {len(tokens)} words; this model reads at most "
                                     f"{self.max_len}")
        ids = torch.zeros(self.max_len, dtype=torch.long)  # <pad> = 0
        ids[:len(tokens)] = torch.tensor([self.ids[w] for w in tokens])
        return ids

    def encode_batch(self, prompts: Sequence[str]) -> torch.Tensor:
        """Several prompts: (B, max_len) int64. Every unknown word of all of them is reported at once."""
        missing = list(dict.fromkeys(w for p in prompts for w in self.unknown(p)))
        if missing:
            raise UnknownWordsError(" | ".join(dict.fromkeys(prompts)), missing, self.vocab[2:])
        return torch.stack([self.encode(p) for p in prompts]) if prompts else torch.zeros(0, self.max_len,
                                                                                              dtype=torch.long)

    def null(self) -> torch.Tensor:
        """The null caption: ``[<null>, <pad>, …]`` (max_len,) int64."""
        ids = torch.zeros(self.max_len, dtype=torch.long)
        ids[0] = 1
        return ids

    def decode(self, ids: torch.Tensor | Sequence[int]) -> list[str]:
        """The tokens of ``ids``, without padding (the null caption is ``["<null>"]``)."""
        return [self.vocab[int(i)] for i in ids if int(i) != 0]

    def tokens(self, prompt: str) -> list[str]:
        """The tokens the model reads for ``prompt`` (what per-word attention maps are labelled with)."""
        return self.decode(self.encode(prompt))

    # -- the checkpoint header --------------------------------------------------------
    def to_meta(self) -> dict[str, Any]:
        return {"words": list(self.vocab), "max_len": self.max_len}

    @classmethod
    def from_meta(cls, meta: Any) -> "Tokenizer":
        """The tokenizer a header describes; ValueError saying what is wrong with it otherwise."""
        if not isinstance(meta, dict):
            raise ValueError("no vocabulary (a 'text' entry with 'words' and 'max_len')")
        vocab, max_len = meta.get("words"), meta.get("max_len")
        if not isinstance(vocab, list) or not 3 <= len(vocab) <= MAX_WORDS:
            raise ValueError(f"the vocabulary is not a list of 3 to {MAX_WORDS} words")
        for w in vocab[2:]:
            if not isinstance(w, str) or len(w) > MAX_WORD_CHARS or words(w) != [w]:
                raise ValueError(f"the vocabulary holds {_brief(w)}, which is not one lower-case word or mark")
        if tuple(vocab[:2]) != SPECIALS:
            raise ValueError(f"the vocabulary does not start with {PAD} and {NULL}")
        if len(set(vocab)) != len(vocab):
            raise ValueError("the vocabulary lists a word twice")
        if not isinstance(max_len, int) or isinstance(max_len, bool) or not 1 <= max_len <= MAX_LEN:
            raise ValueError(f"the vocabulary's max_len {_brief(max_len)} is not a whole number from 1 to {MAX_LEN}")
        return cls(vocab, max_len)

    def __len__(self) -> int:
        return len(self.vocab)


def _brief(value: Any) -> str:
    text = repr(value).replace("\n", " ")
    return text if len(text) <= 40 else text[:37] + "..."
