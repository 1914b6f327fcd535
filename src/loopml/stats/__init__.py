"""Pure drift statistics on numpy arrays.

Every test takes a *reference* and a *current* sample (1-D arrays; ``NaN`` or
``None`` mark missing values and are dropped) and returns a frozen
:class:`DriftTestResult`. Nothing here reads files, knows about pandas or
registers anything at import time.

==================================  ===========  ===================  ====================
function                            data         output               drift when
==================================  ===========  ===================  ====================
:func:`ks_test`                     numeric      D, p-value           p < threshold (0.05)
:func:`anderson_darling_test`       numeric      T, p in [.001, .25]  p < threshold (0.05)
:func:`chi_square_test`             categorical  Pearson X², p-value  p < threshold (0.05)
:func:`two_proportion_z_test`       binary       Z, p-value           p < threshold (0.05)
:func:`wasserstein_distance_norm`   numeric      W1 / reference std   stat >= thr. (0.1)
:func:`jensen_shannon_distance`     both         JS distance, base 2  stat >= thr. (0.1)
:func:`hellinger_distance`          both         Hellinger distance   stat >= thr. (0.1)
:func:`population_stability_index`  both         PSI                  stat >= thr. (0.2)
==================================  ===========  ===================  ====================

Every result also carries an effect size, a measure of *how large* the
difference is that does not grow with the sample sizes (a p-value does):

=============================  ======================  ========================
function                       ``effect_size_name``    effect size
=============================  ======================  ========================
:func:`ks_test`                ``"ks_d"``              D itself, in [0, 1]
:func:`anderson_darling_test`  ``"wasserstein_norm"``  W1 / reference std, >= 0
:func:`chi_square_test`        ``"cramers_v"``         Cramér's V, in [0, 1]
:func:`two_proportion_z_test`  ``"cohens_h"``          Cohen's h, in [0, pi]
the four distances             the distance's name     the statistic itself
=============================  ======================  ========================
"""

from loopml.stats.anderson_darling import anderson_darling_test
from loopml.stats.chi_square import chi_square_test
from loopml.stats.hellinger import hellinger_distance
from loopml.stats.jensen_shannon import jensen_shannon_distance
from loopml.stats.ks import ks_test
from loopml.stats.psi import population_stability_index, psi_from_counts
from loopml.stats.result import DriftTestResult, category_counts
from loopml.stats.two_proportion import two_proportion_z_test
from loopml.stats.wasserstein import wasserstein_distance_norm

__all__ = [
    "DriftTestResult",
    "anderson_darling_test",
    "category_counts",
    "chi_square_test",
    "hellinger_distance",
    "jensen_shannon_distance",
    "ks_test",
    "population_stability_index",
    "psi_from_counts",
    "two_proportion_z_test",
    "wasserstein_distance_norm",
]
