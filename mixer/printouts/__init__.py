"""Printouts: PDFs kept under what they print and drawn by the job worker when big."""
