"""The query-ready station dataset and what is asked of it: nearest, viewport, navigation, export.

"""
