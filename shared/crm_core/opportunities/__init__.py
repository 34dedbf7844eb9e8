"""Sales opportunities (销售机会表): the pipeline, its per-company funnel and stage history."""
