"""Coordinates and places: datums (WGS-84, GCJ-02, BD-09), Henan's regions, base maps and tile
sources.
"""
