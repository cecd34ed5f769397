"""Background planning jobs, computed once per key and never on a request thread."""
