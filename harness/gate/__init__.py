"""`harness check`: a CI gate on exact figures (CPU per item, peak RSS, cause shares), judged
with the runs' spread so noise is not called a regression."""
