"""tfnas's Hydra configs, shipped as package data of `tfnas.conf` (the primary config is config.yaml)."""
