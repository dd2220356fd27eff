"""Foundations every stage uses: canonical JSON and hashes, atomic output, limits, locations, settings, words."""
