"""The scrubber's reverse-process state without Qt: the spec edited, the recording shown, a branch."""

from __future__ import annotations

import numpy as np
import pytest

from genstudio.sampling import SampleSpec, sample
from genstudio.views.scrubber import FINAL, ScrubberState

from tiny_models import tiny_image_model


def state_with(model) -> tuple[ScrubberState, list]:
    s, seen = ScrubberState(), []
    s.changed.connect(seen.append)
    s.set_model(model)
    return s, seen


def test_the_spec_is_edited_field_by_field_and_fits_the_model():
    s, seen = state_with(tiny_image_model(num_steps=40))
    assert s.spec.sampler == "ddpm" and s.spec.n == 16
    s.edit(sampler="ddim", steps=500, eta=0.5)
    assert s.spec.steps == 40  # DDIM cannot visit more than the model's T steps
    assert s.total_steps() == 40 and "spec" in seen
    s.edit(steps=10)
    assert s.total_steps() == 10 and "records 10 steps" in s.recording_note()
    s.edit(sampler="ddpm")
    assert s.total_steps() == 40  # DDPM takes every step, whatever steps says
    with pytest.raises(ValueError):
        s.edit(sampler="no such sampler")


def test_a_recording_too_large_is_refused_before_it_starts():
    s, _ = state_with(tiny_image_model(num_steps=1000, channels=3))
    with pytest.raises(ValueError, match="lower N"):
        s.plan_sample(SampleSpec(4096, 0, "ddpm"))
    assert s.result is None


def test_a_recording_is_shown_from_its_samples_and_scrubbed():
    model = tiny_image_model(num_steps=20)
    s, seen = state_with(model)
    spec = s.plan_sample(SampleSpec(4, 3, "ddim", steps=5, eta=0.0))
    assert s.branch_seed == 4  # the next branch tries the next seed
    s.set_result(sample(model, spec))
    assert "result" in seen and s.timestep == FINAL
    traj = s.result.trajectory
    assert list(s.timesteps()) == [*traj.timesteps, FINAL]
    assert s.step_index() == len(traj) - 1  # the final samples: the last step's ε̂ and x̂₀
    for k, t in enumerate(traj.timesteps):
        s.set_timestep(int(t))
        assert s.step_index() == k
    assert s.branch_eta == 1.0  # DDIM with η = 0 is deterministic: a branch needs noise
    s.select(99)
    assert s.selected == 3  # the last of 4


def test_a_branch_from_the_last_step_ends_where_the_recording_did():
    model = tiny_image_model(num_steps=20)
    s, seen = state_with(model)
    s.set_result(sample(model, s.plan_sample(SampleSpec(3, 1, "ddpm"))))
    s.set_timestep(0)  # the last recorded step
    plan = s.plan_branch(seed=2)
    assert plan.t == 0 and plan.steps == 1 and plan.spec.seed == 2
    ending = sample(model, plan.spec, start_x=plan.start_x, start_index=plan.start_index)
    s.set_branch_ending(plan.t, ending.final)
    assert "branch" in seen and s.branch.diff == 0.0
    np.testing.assert_array_equal(s.branch.final, s.result.final)
    s.set_timestep(int(s.result.trajectory.timesteps[0]))  # the first step: not decided yet
    plan = s.plan_branch()
    ending = sample(model, plan.spec, start_x=plan.start_x, start_index=plan.start_index)
    s.set_branch_ending(plan.t, ending.final)
    assert s.branch.t == 19 and s.branch.diff > 0.1


def test_a_text_model_samples_the_prompt_and_refuses_a_word_it_never_saw():
    from tiny_models import tiny_text_model

    s, seen = state_with(tiny_text_model())
    assert s.takes_text() and s.vocabulary() == ["a", "blue", "circle", "red", "star"]
    assert s.spec.prompt == "" and s.spec.guidance == 3.0  # guided from the start, at the default s
    s.edit(prompt="a green star")
    assert "'green'" in s.prompt_error() and "never saw" in s.prompt_error()
    with pytest.raises(ValueError, match="green"):
        s.plan_sample()
    s.edit(prompt="a red star", negative="a purple circle")
    assert s.prompt_error().startswith("negative: ") and "'purple'" in s.prompt_error()
    s.edit(negative="a blue star")
    assert s.prompt_error() == "" and s.plan_sample().prompt == "a red star"
    s.set_model(tiny_image_model())  # a model without text: no conditioning, or sampling would refuse it
    assert not s.takes_text() and not s.spec.guided and s.prompt_error() == ""


def test_a_guidance_sweep_plans_one_row_per_scale_from_the_same_spec():
    from genstudio.views.guidance_sweep import GuidanceSweep, parse_scales

    assert parse_scales("0, 1 3;7") == (0.0, 1.0, 3.0, 7.0)
    for bad, why in (("", "type the guidance scales"), ("1, x", "'x' is not a number"), ("1, -2", "0 to 100"),
                     (" ".join("1" * 9), "at most 8")):
        with pytest.raises(ValueError, match=why):
            parse_scales(bad)
    sw, seen = GuidanceSweep(), []
    sw.changed.connect(seen.append)
    sw.set_text("0, 2, oops")
    assert sw.error and sw.scales == (0.0, 1.0, 3.0, 7.0)  # the last good scales stay
    with pytest.raises(ValueError, match="oops"):
        sw.plan(SampleSpec(prompt="a red star", guidance=3.0))
    sw.set_text("0 2")
    with pytest.raises(ValueError, match="text-to-image"):
        sw.plan(SampleSpec())  # no prompt: nothing to guide by
    specs = sw.plan(SampleSpec(seed=4, prompt="a red star", guidance=3.0))
    assert [(s.guidance, s.seed, s.prompt, s.record) for s in specs] == [(0.0, 4, "a red star", False),
                                                                        (2.0, 4, "a red star", False)]
    sw.add_row(np.zeros((2, 1, 4, 4)))
    assert sw.next_spec() is specs[1] and sw.row_caption(specs[0]) == "s = 0 (unconditional)"
    sw.add_row(np.ones((2, 1, 4, 4)))
    assert sw.next_spec() is None and len(sw.rows) == 2 and seen[-1] == "row"


@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
def test_a_text_branch_with_the_same_prompt_retraces_the_recording_and_another_prompt_changes_it(sampler):
    from tiny_models import tiny_text_model

    model = tiny_text_model(num_steps=12)
    s, _ = state_with(model)
    s.edit(prompt="a red star", guidance=3.0, n=3, seed=4, sampler=sampler, steps=6)
    s.set_result(sample(model, s.plan_sample()))
    assert (s.branch_seed, s.branch_prompt, s.branch_guidance) == (4, "a red star", 3.0)  # the same noise
    traj = s.result.trajectory
    s.set_timestep(int(traj.timesteps[len(traj) // 2]))  # mid-way

    def branch(**text) -> np.ndarray:
        s.set_branch_options(**text)
        plan = s.plan_branch()
        s.set_branch_ending(plan.t, sample(model, plan.spec, start_x=plan.start_x,
                                           start_index=plan.start_index).final, plan.what)
        return s.branch

    same = branch()
    assert same.what == "nothing" and same.diff < 1e-5
    np.testing.assert_allclose(same.final, s.result.final, atol=1e-5)
    other = branch(prompt="a blue circle")
    assert other.what == "prompt 'a blue circle'" and other.diff > 1e-3
    assert branch(prompt="a red star", guidance=7.0).what == "s = 7" and s.branch.diff > 1e-3
    s.set_branch_options(prompt="a green star")
    with pytest.raises(ValueError, match="'green'"):
        s.plan_branch()  # the tokenizer's message, before anything runs
