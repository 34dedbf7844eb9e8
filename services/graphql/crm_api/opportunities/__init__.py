"""GraphQL: sales opportunities, their lines, stage history and the funnel."""
