"""The study: the scenario matrix that answers the plan's Q1-Q4, run and written up.

matrix (what to run) -> execute (run it, with warm-ups and repeats) -> results (study.json)
-> questions (the answers, from the numbers) -> findings (findings.md).
"""
