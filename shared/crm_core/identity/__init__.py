"""Sign-in: password hashing, access tokens, memberships."""
