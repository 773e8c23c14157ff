"""The store of a search: what tfnas writes into its Optuna storage."""
