"""The control plane: tenants, users, memberships, and the credentials that reach them."""
