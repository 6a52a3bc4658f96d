"""Statistics for honest comparisons: bootstrap intervals, paired tests, rankings, power.

Every random function takes an explicit ``np.random.Generator``; nothing uses global
random state. scipy is imported inside the functions that need it, so importing this
package stays cheap (the config validator imports ``bench.metrics``, which uses
``bench.stats.bootstrap``).
"""

from bench.stats.corrections import CORRECTIONS, SeedSummary, adjust_pvalues, seed_summary
from bench.stats.paired import (McNemarResult, PairedBootstrapResult, RandomizationResult,
                                approximate_randomization, mcnemar, paired_bootstrap)
from bench.stats.power import mcnemar_min_detectable_difference
from bench.stats.ranking import FriedmanResult, friedman_nemenyi

__all__ = ["CORRECTIONS", "FriedmanResult", "McNemarResult", "PairedBootstrapResult", "RandomizationResult",
           "SeedSummary", "adjust_pvalues", "approximate_randomization", "friedman_nemenyi", "mcnemar",
           "mcnemar_min_detectable_difference", "paired_bootstrap", "seed_summary"]
