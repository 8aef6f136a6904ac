"""Qt-free view state (napari's ``components/``): what the person is doing in a view, as plain Python.

Each view's state is an object here — :class:`~genstudio.views.latent.LatentState` (the latent
explorer), :class:`~genstudio.views.scrub.ScrubState` (the scrubber's reverse process) and
:class:`~genstudio.views.run_form.RunForm` (the run panel's form). A Qt widget renders one: it
listens to the state's ``changed`` event and updates itself, and an edit by the person calls a
setter of the state. Nothing here imports Qt, so the behaviour is tested without it
(``tests/core/test_view_state.py``).
"""

from genstudio.views.events import Event

__all__ = ["Event"]
