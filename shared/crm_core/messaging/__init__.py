"""Messages between the gateway and the workers: broker set-up, actor declaration, after-commit sends."""
