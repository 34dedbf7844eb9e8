"""GraphQL: activities and their attendees."""
