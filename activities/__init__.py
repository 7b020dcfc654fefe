"""Side effects of the order workflow: each activity is idempotent under Temporal's retries."""
