"""The one exception type for mistakes a user can fix (bad option, missing file, ...)."""


class GanlibError(Exception):
    """A user-fixable problem; its message says what is wrong and how to fix it."""
