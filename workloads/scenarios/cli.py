"""Command-line options of a scenario, built from its registry entry."""

from __future__ import annotations

import argparse
from typing import Any

from workloads.registry import Param, Scenario


def _typed(param: Param):
    def convert(raw: str) -> Any:
        try:
            return param.parse(raw)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


def build_parser(scenario: Scenario) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"python -m {scenario.module}", description=scenario.description
    )
    for param in scenario.params:
        if param.type == "bool":
            parser.add_argument(
                param.flag,
                dest=param.name,
                nargs="?",
                const=True,
                default=param.default,
                type=_typed(param),
                help=param.help,
            )
        else:
            parser.add_argument(
                param.flag,
                dest=param.name,
                default=param.default,
                type=_typed(param),
                help=f"{param.help} (default: {param.default})",
                metavar=param.type.upper(),
            )
    return parser


def parse_args(scenario: Scenario, argv: list[str] | None = None) -> dict[str, Any]:
    """The scenario's parameters as a dict (defaults filled in)."""
    return vars(build_parser(scenario).parse_args(argv))
