"""PDF work for phonghop: ingest, agenda book, rendering, stamps. No web, no database."""
