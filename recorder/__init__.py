"""Records a conference program to segment files; takes plain values and callbacks, and
never imports `server` (the server owns the database)."""


def N_(message: str) -> str:
    """Marks an English msgid for translation (`pybabel extract -k N_`); the server translates."""
    return message
