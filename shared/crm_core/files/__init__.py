"""Files of a tenant: uploads to import, error reports and exports to download."""
