"""The ``bastion`` command line (Typer): thin adapters over the library."""
