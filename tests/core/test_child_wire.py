"""What crosses from the training process to the app (issue 20), without a process: the child's
outbox sends every logged step and only the newest tick, sends rare events at once, and a snapshot
crosses as safetensors bytes that read back into the same tensors."""

from __future__ import annotations

import pickle

import torch

from genstudio.runs.child import Outbox, snapshot_from_wire, snapshot_to_wire
from genstudio.runs.events import Finished, Progress, Saved, Snapshot, Tick


def test_the_outbox_keeps_every_logged_step_and_the_newest_tick():
    sent = []
    box = Outbox(sent.append)
    box._last = float("inf")  # no time-based flush in this test: only what the events force
    for step in range(1, 26):
        box.add(Progress(step, 100, {"loss": 1.0 / step}, 0.0, 0.0) if step % 10 == 0 else Tick(step, 100))
    assert sent == []  # nothing rare yet: all pending
    box.add(Saved(25, "x.safetensors"))  # a rare event goes at once, with what is pending before it
    (what, batch), = sent
    assert what == "events"
    assert [type(e).__name__ for e in batch] == ["Progress", "Progress", "Tick", "Saved"]
    assert [e.step for e in batch] == [10, 20, 25, 25]
    pickle.loads(pickle.dumps(sent))  # plain data only


def test_a_closed_outbox_sends_nothing():
    sent = []
    box = Outbox(sent.append)
    box.closed = True  # detached: nobody reads
    box.add(Finished(3, "done"))
    assert sent == []


def test_a_snapshot_crosses_as_safetensors_bytes():
    tensors = {"model/G/w": torch.randn(3, 4), "model/G/b": torch.arange(5)}
    wire = snapshot_to_wire(Snapshot(7, tensors, {"kind": "gan", "step": 7}))
    assert isinstance(wire[2], bytes)
    back = snapshot_from_wire(pickle.loads(pickle.dumps(wire)))
    assert back.step == 7 and back.meta == {"kind": "gan", "step": 7}
    assert set(back.tensors) == set(tensors)
    assert all(torch.equal(back.tensors[k], tensors[k]) for k in tensors)
