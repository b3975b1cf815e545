"""Errors an operator can act on. The CLI prints them as one line, never a traceback."""


class RallyError(Exception):
    """Base class: the message is the whole story, written for the operator."""

    exit_code = 1


class DatabaseUnavailable(RallyError):
    """The app database cannot be reached (bad URL, server down, auth refused)."""


class NoDatabaseFound(RallyError):
    """Neither RALLY_DATABASE_URL nor RALLY_HOME is set and no `.rally` with a database is found."""


class InputError(RallyError):
    """A landing file cannot be used: names the file, and the row and field where there is one."""

    def __init__(self, file: str, message: str, row: int | None = None, field: str | None = None):
        self.file, self.row, self.field = file, row, field
        where = file
        if row is not None:
            where += f" row {row}"
        if field is not None:
            where += f" field {field!r}"
        super().__init__(f"{where}: {message}")


class ProtectedTableWriteError(RallyError):
    """The import tried to delete, truncate or update a table that belongs to users."""


class UnknownUserError(RallyError):
    exit_code = 2
