"""What a model learns from: feature blocks and their cache, estimators, label handling per task."""
