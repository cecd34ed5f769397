"""The write path: unions, staff accounts and their roles (and, built on them, reports and
audited edits)."""
