"""`make bench`: what the harness costs and how lean its workloads are, measured here.

Every figure is the median of per-pair ratios over interleaved runs (A B A B ..., or A B C A B C
... with three arms) made in one sitting, so slow drift of a shared, noisy machine falls on both
sides of each ratio. Results go to bench/results.json and bench/results.md.
"""
