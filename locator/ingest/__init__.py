"""Importing the unions' own station lists: read, map columns, check fields, dedupe, report,
publish.
"""
