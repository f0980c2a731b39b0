"""Being written (issue 19)."""
