"""Demo data: a deterministic generator of realistic customers and contacts."""
