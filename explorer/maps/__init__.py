"""Thematic maps of the explorer: classification, palettes, web geometry, APIs."""
