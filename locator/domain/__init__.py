"""What a station is, independent of storage and the web: schema, opening hours, presets, labels,
public parameters.
"""
