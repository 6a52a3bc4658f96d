"""A benchmark run: config checks, the job plan, executors, streaming, progress and predictions."""
