"""One module per `harness` subcommand; `harness/cli.py` registers them."""
