"""Templates, static assets and translations, rendered by the server."""

from pathlib import Path

ROOT = Path(__file__).parent
TEMPLATES = ROOT / "templates"
STATIC = ROOT / "static"
TRANSLATIONS = ROOT / "translations"
