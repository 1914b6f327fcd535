"""Pure drift statistics on numpy arrays.

Every test takes a *reference* and a *current* sample (1-D arrays; ``NaN`` or
``None`` mark missing values and are dropped) and returns a frozen
:class:`DriftTestResult`. Nothing here reads files, knows about pandas or
registers anything at import time.

=================================  ===========  =====================  =====================
function                           data         output                 drift when
=================================  ===========  =====================  =====================
:func:`ks_test`                    numeric      D, p-value             p < threshold (0.05)
:func:`chi_square_test`            categorical  Pearson X², p-value    p < threshold (0.05)
:func:`wasserstein_distance_norm`  numeric      W1 / reference std     stat >= thr. (0.1)
:func:`jensen_shannon_distance`    both         JS distance, base 2    stat >= thr. (0.1)
:func:`population_stability_index` both         PSI                    stat >= thr. (0.2)
=================================  ===========  =====================  =====================
"""

from loopml.stats.chi_square import chi_square_test
from loopml.stats.jensen_shannon import jensen_shannon_distance
from loopml.stats.ks import ks_test
from loopml.stats.psi import population_stability_index, psi_from_counts
from loopml.stats.result import DriftTestResult, category_counts
from loopml.stats.wasserstein import wasserstein_distance_norm

__all__ = [
    "DriftTestResult",
    "category_counts",
    "chi_square_test",
    "jensen_shannon_distance",
    "ks_test",
    "population_stability_index",
    "psi_from_counts",
    "wasserstein_distance_norm",
]
