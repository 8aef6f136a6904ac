"""Text from files and paths reaches the terminal visible and on one line, in any stdout encoding.

The repros: ``genstudio info`` printed header strings raw (terminal escapes, forged lines), a file
name with a newline broke the one-line error, and with ``PYTHONIOENCODING=utf-8:strict`` ``info``
failed on a checkpoint in a folder whose name is not UTF-8.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from genstudio.safe_text import safe_text
from header_edits import with_meta

ROOT = Path(__file__).resolve().parents[2]
RING8 = ROOT / "checkpoints" / "gan_ring8.safetensors"


def genstudio(*args: str, encoding: str = "utf-8:strict") -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONIOENCODING=encoding, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "genstudio", *args], capture_output=True, env=env, timeout=120,
                          cwd=ROOT)


def test_safe_text_shows_what_is_invisible():
    assert safe_text("a\nb\rc\td") == "a\\nb\\rc\\td"
    assert safe_text("\x1b[2J\x07\x7f") == "\\x1b[2J\\x07\\x7f"
    assert safe_text("right\u202eleft\u200b") == "right\\u202eleft\\u200b"  # bidi override, zero width
    assert safe_text(os.fsdecode(b"dir\xff\xfe")) == "dir\\xff\\xfe"  # surrogateescape'd bytes
    assert safe_text(Path("caf\u00e9 \u65e5\u672c \U0001f600")) == "caf\u00e9 \u65e5\u672c \U0001f600"
    assert safe_text("x" * 10, limit=5) == "xxxx…"


def test_info_prints_header_strings_escaped_on_their_own_lines(tmp_path):
    plain = genstudio("info", str(RING8))
    forged = with_meta(RING8, tmp_path / "forged.safetensors",
                       data="ring8\x1b]0;pwned\x07\x1b[2J\nkind:        diffusion\u202e")
    proc = genstudio("info", str(forged))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.decode("utf-8")
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert len(out.splitlines()) == len(plain.stdout.decode().splitlines())
    assert "data:        ring8\\x1b]0;pwned\\x07\\x1b[2J\\nkind:        diffusion\\u202e" in out
    assert [line for line in out.splitlines() if line.startswith("kind:")] == ["kind:        gan"]


def test_a_file_name_with_a_newline_keeps_the_error_on_one_line(tmp_path):
    name = "two\nlines\x1b[31m.safetensors"
    bad = with_meta(RING8, tmp_path / name, data_kind="images", size=32, channels=1)
    proc = genstudio("sample", str(bad), "--n", "2", "--out", str(tmp_path / "s.npy"), "--device", "cpu")
    assert proc.returncode == 1
    err = proc.stderr.decode("utf-8")
    assert err.count("\n") == 1 and "\x1b" not in err
    assert err.startswith("genstudio: error: two\\nlines\\x1b[31m.safetensors: header data_kind = 'images'")


@pytest.mark.skipif(sys.platform != "linux", reason="file names that are not UTF-8 are a POSIX matter")
@pytest.mark.parametrize("encoding", ["utf-8:strict", "ascii:strict"])
def test_info_survives_a_folder_name_that_is_not_utf8(tmp_path, encoding):
    folder = Path(os.fsdecode(os.fsencode(tmp_path) + b"/caf\xe9-\xff"))  # Latin-1 bytes
    folder.mkdir()
    shutil.copy(RING8, folder / "g.safetensors")
    proc = genstudio("info", str(folder / "g.safetensors"), encoding=encoding)
    assert proc.returncode == 0, proc.stderr
    first = proc.stdout.decode("ascii").splitlines()[0]
    assert first.endswith("/caf\\xe9-\\xff/g.safetensors")
    label = with_meta(RING8, tmp_path / "label.safetensors", data="caf\u00e9")
    proc = genstudio("info", str(label), encoding=encoding)
    assert proc.returncode == 0, proc.stderr
    assert ("caf\\xe9" if encoding.startswith("ascii") else "caf\u00e9") in proc.stdout.decode("utf-8")
