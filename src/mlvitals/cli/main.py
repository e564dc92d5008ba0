"""``mlvitals``: the root command group; each command lives in its own module."""

from __future__ import annotations

import sys
from typing import Any

import click

from mlvitals import __version__
from mlvitals.errors import MlvitalsError


class _Group(click.Group):
    """Turns any MlvitalsError into one line on stderr and the error's exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MlvitalsError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mlvitals")
def main() -> None:
    """mlvitals: operational monitoring for machine-learning systems.

    Serve the dashboard and API, profile and check data, inspect runs and costs.
    """


def _register() -> None:
    from mlvitals.cli import cost, db, demo, env, runs, serve

    main.add_command(serve.serve)
    main.add_command(demo.demo)
    main.add_command(db.db)
    main.add_command(env.env)
    main.add_command(runs.runs)
    main.add_command(cost.cost)

    from mlvitals.cli import alerts

    main.add_command(alerts.alerts)
    main.add_command(alerts.rules)

    from mlvitals.cli import quality

    main.add_command(quality.profile_cmd)
    main.add_command(quality.check_cmd)
    main.add_command(quality.schema_group)


_register()
