"""Experiment tracking: experiments, runs, params, metrics, artifacts, inputs.

Public names:

- :class:`Tracker` — ``get_or_create_experiment``, ``start_run``, ``get_run``,
  ``list_runs``, ``metric_history``.
- :class:`ActiveRun` — a run in progress (context manager); metrics are
  buffered and written to the store in batches from a background thread.
- :func:`git_commit`, :func:`capture_environment` — the code version and
  environment recorded with every run.
"""

from loopml.tracking.active_run import ActiveRun
from loopml.tracking.environment import capture_environment, git_commit
from loopml.tracking.tracker import Tracker

__all__ = ["ActiveRun", "Tracker", "capture_environment", "git_commit"]
