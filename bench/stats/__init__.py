"""Statistics for honest comparisons: bootstrap intervals, paired tests, rankings, power."""
