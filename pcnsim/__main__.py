"""`python -m pcnsim` is the `pcnsim` command."""

from .cli import app

app()
