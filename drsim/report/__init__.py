"""Rendering results for people: terminal tables, Markdown, printable timelines, plots."""
