"""Stage 6, report: the Markdown report, figures, draw.io diagrams, the notebook and references."""
