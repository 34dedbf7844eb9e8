"""Exports of any filtered list to CSV or XLSX, inside the data scope, personal data masked."""
