"""Colours that mean the same thing in every picture: the plots and the HTML report draw the
split of thread time with these."""

from __future__ import annotations

SPLIT_COLOURS = {
    "on_cpu": ("on CPU", "#e4572e"),
    "cpu_wait": ("waiting for a CPU", "#f3a712"),
    "disk_wait": ("disk", "#2e86ab"),
    "network_wait": ("network", "#29bf9b"),
    "lock_wait": ("lock / GIL", "#8f2d56"),
    "sleep": ("sleep", "#9aa5b1"),
    "other": ("other", "#d9dee4"),
}
