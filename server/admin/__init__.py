"""Administration: accounts, councils and their rosters, imports, and the audit list."""
