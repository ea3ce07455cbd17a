"""Sans-I/O core."""
