"""Street networks from OpenStreetMap extracts: build, store, snap."""
