"""Rendering of check results (HTML with inline SVG); no computation happens here."""
