"""Administration: accounts, councils and their rosters, imports, and the audit list.

Nothing is imported here, so capabilities may call `server.admin.audit.record` freely;
create_app takes the routes from `server.admin.routes`."""
