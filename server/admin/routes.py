"""What create_app registers for administration: the JSON routes, the pages, and choosing
one's own password."""

from server.admin import accounts, audit, choose_password, councils, imports, pages, roster

ROUTES = [
    *audit.ROUTES,
    *accounts.ROUTES,
    *councils.ROUTES,
    *roster.ROUTES,
    *imports.ROUTES,
    *pages.ROUTES,
    *choose_password.ROUTES,
]
