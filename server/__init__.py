"""The phonghop server: Litestar app, database, services, routes, CLI."""
