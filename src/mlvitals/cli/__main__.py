"""``python -m mlvitals.cli``."""

from mlvitals.cli.main import main

main(prog_name="mlvitals")
