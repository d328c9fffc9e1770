"""Per-user API tokens for /api/events: issued and revoked by an admin, hashed at rest."""
