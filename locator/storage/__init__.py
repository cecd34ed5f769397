"""Where published station versions persist, and how a process learns that the live one changed."""
