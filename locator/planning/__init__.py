"""Coverage and siting: demand grid, coverage by region, suggested sites with a certified bound,
reports.
"""
