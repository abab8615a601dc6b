"""The board pack: charts (figures only) and the pack (HTML, deck, PNG/SVG, index)."""
