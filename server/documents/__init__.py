"""Documents: upload and sanitizing, page images, words, search, stamped downloads."""
