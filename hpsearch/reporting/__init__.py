"""Reporting: results tables, plots, progress lines and comparison summaries, read from run stores."""
