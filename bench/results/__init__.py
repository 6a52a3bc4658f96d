"""Run folders on disk: the store, one run's table, rescoring and imported predictions."""
