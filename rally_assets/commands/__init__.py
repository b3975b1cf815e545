"""The parts of the `rally` command that are not its parser: what it prints."""
