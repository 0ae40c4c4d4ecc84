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

#: The verdict's families of causes (and the run queue), in the cause-coloured flame graph and
#: wherever causes are drawn.
FAMILY_COLOURS = {
    "cpu": ("CPU (user mode)", "#e4572e"),
    "filesystem": ("filesystem (kernel, no device wait)", "#f3a712"),
    "disk": ("disk (device and the kernel's I/O)", "#2e86ab"),
    "network": ("network", "#29bf9b"),
    "gil": ("GIL", "#b83b5e"),
    "lock": ("lock", "#8f2d56"),
    "sleep": ("sleep", "#9aa5b1"),
    "queued": ("queued for a CPU", "#f6d186"),
    "other": ("other waits", "#d9dee4"),
}
