"""Metric-free statistics for honest comparisons: the bootstrap engine, McNemar's test,
p-value corrections, rankings, power.

Every random function takes an explicit ``np.random.Generator``; nothing uses global
random state. scipy is imported inside the functions that need it, so importing this
package stays cheap (the config checks import ``bench.stats.bootstrap``). Nothing here
knows a metric: the paired tests that re-score one are in ``bench.metrics.paired``.
"""

from bench.stats.corrections import CORRECTIONS, adjust_pvalues
from bench.stats.correctness import McNemarResult, mcnemar
from bench.stats.power import mcnemar_min_detectable_difference
from bench.stats.ranking import FriedmanResult, friedman_nemenyi

__all__ = ["CORRECTIONS", "FriedmanResult", "McNemarResult", "adjust_pvalues", "friedman_nemenyi", "mcnemar",
           "mcnemar_min_detectable_difference"]
