"""The HTML report over every run under a profiles root: a sortable, filterable runs table,
SVG plots, and the newest study's answers to Q1-Q4.

collect (rows from summaries) -> datasets (what each plot shows) -> plots (matplotlib SVG)
-> render (jinja2) -> build (all of it, index.html written atomically).
"""
