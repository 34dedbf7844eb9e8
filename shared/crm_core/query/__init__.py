"""Generic list machinery: typed filters, ordering, keyset pages."""
