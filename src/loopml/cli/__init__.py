"""The ``loopml`` command line: one Typer sub-app per noun, each a thin adapter over loopml.api."""
