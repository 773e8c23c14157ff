"""The zero-cost proxies of NAS-Bench-Suite-Zero's zoo that tfnas adds for language models (beyond the
paper's metrics): what `--metrics zoo` scores in the reproduction scripts and what the zoo table lists."""
ZOO = ("grad_norm", "snip", "grasp", "fisher", "plain", "l2_norm", "epe_nas", "zen", "zico", "flops")
