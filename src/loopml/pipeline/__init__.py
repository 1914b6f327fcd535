"""YAML pipelines with step caching and lineage.

Public names:

- :class:`PipelineSpec`, :class:`StepSpec` — a validated pipeline
  (``PipelineSpec.from_yaml(path)`` / ``from_dict(data)`` / ``with_params``).
- :func:`run_pipeline` -> :class:`PipelineResult` (with one :class:`StepResult`
  per step): one tracking run per pipeline run; unchanged steps complete
  from the step cache.
- :data:`STEP_KINDS`, :data:`ESTIMATORS`, :data:`METRICS` — what a spec may use.
"""

from loopml.pipeline.runner import PipelineResult, StepResult, run_pipeline
from loopml.pipeline.spec import ESTIMATORS, METRICS, STEP_KINDS, PipelineSpec, StepSpec

__all__ = [
    "ESTIMATORS",
    "METRICS",
    "STEP_KINDS",
    "PipelineResult",
    "PipelineSpec",
    "StepResult",
    "StepSpec",
    "run_pipeline",
]
