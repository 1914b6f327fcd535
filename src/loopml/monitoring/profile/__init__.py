"""Mergeable profiles: per-column statistics of a table that add up across partitions.

A profile summarises a column in bounded memory so that ``merge(p(a), p(b))``
is the profile of ``a ∪ b`` (within the sketches' documented error), and
drift can be tested from two profiles without the rows:

- numeric columns: rows, missing, ``±inf`` counts, exact min/max, mean and
  variance (pairwise update), the 1000 smallest and largest finite values
  exactly, and a KLL quantile sketch (Apache
  DataSketches ``kll_doubles_sketch``, ``k=1000``: 0.28% rank error with
  99% confidence) of the finite values;
- categorical, boolean and string columns: rows, missing, exact counts per
  label up to ``max_categories`` (1000), then a frequent-items sketch
  (``frequent_strings_sketch``, counts within 0.085% of the rows).

Contents:

- :class:`ProfileSettings` -- sketch sizes (``k``, ``max_categories``,
  ``frequent_lg_max_k``, ``tail_size``);
- :class:`ColumnProfile`, :class:`DatasetProfile` -- frozen values, strict
  JSON (``to_dict``/``from_dict``, sketches and tails in base64);
- :func:`profile_column`, :func:`profile_frame` -- build them chunk by chunk
  (DataFrames, Arrow tables, record-batch streams, generators of chunks);
- :func:`merge`, :func:`merge_all` -- the profile of a union of partitions;
- :func:`ks_from_profiles`, :func:`wasserstein_from_profiles`,
  :func:`chi_square_from_profiles`, :func:`jensen_shannon_from_profiles`,
  :func:`psi_from_profiles`, :func:`hellinger_from_profiles`,
  :func:`two_proportion_z_from_profiles` and :func:`profile_error_bound` --
  the :mod:`loopml.stats` tests from profiles,
  with the bound on the difference to the exact computation (table in
  :mod:`loopml.monitoring.profile.drift`);
- :func:`column_drift_from_profiles` -- the profile twin of
  :func:`loopml.monitoring.column_drift` (a ``ColumnDrift`` with a
  finding instead of an error for an empty or all-missing side).
"""

from loopml.monitoring.profile.build import (
    DEFAULT_CHUNK_ROWS,
    merge,
    merge_all,
    profile_column,
    profile_frame,
)
from loopml.monitoring.profile.column import (
    PROFILE_FORMAT_VERSION,
    ColumnProfile,
    ProfileKind,
)
from loopml.monitoring.profile.compare import column_drift_from_profiles
from loopml.monitoring.profile.dataset import DatasetProfile
from loopml.monitoring.profile.drift import (
    PROFILE_METHODS,
    chi_square_from_profiles,
    hellinger_from_profiles,
    jensen_shannon_from_profiles,
    ks_from_profiles,
    profile_error_bound,
    psi_from_profiles,
    two_proportion_z_from_profiles,
    wasserstein_from_profiles,
)
from loopml.monitoring.profile.settings import ProfileSettings

__all__ = [
    "DEFAULT_CHUNK_ROWS",
    "PROFILE_FORMAT_VERSION",
    "PROFILE_METHODS",
    "ColumnProfile",
    "DatasetProfile",
    "ProfileKind",
    "ProfileSettings",
    "chi_square_from_profiles",
    "column_drift_from_profiles",
    "hellinger_from_profiles",
    "jensen_shannon_from_profiles",
    "ks_from_profiles",
    "merge",
    "merge_all",
    "profile_column",
    "profile_error_bound",
    "profile_frame",
    "psi_from_profiles",
    "two_proportion_z_from_profiles",
    "wasserstein_from_profiles",
]
