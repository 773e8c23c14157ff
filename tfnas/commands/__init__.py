"""The `tfnas` subcommands: each is a module of this package with `main(argv) -> int | None`.

`COMMANDS` names each one's module and its one-line summary, so `tfnas --help` lists them without
importing any of them (none of torch, transformers or Hydra is loaded to print the list). A command's
bad input is a `TfnasError` raised by its `main`; `tfnas.cli` turns it into one line and exit status 2.
"""
from __future__ import annotations

#: name -> (module, summary); the order is the order `tfnas --help` lists them in
COMMANDS: dict[str, tuple[str, str]] = {
    "search": ("tfnas.commands.search", "run a search (the Hydra app; plain `tfnas key=value ...` is the same)"),
    "report": ("tfnas.commands.report", "rebuild a run's report, or compare several runs"),
    "export": ("tfnas.commands.export", "write a shortlisted architecture of a run as a model folder"),
    "reproduce": ("tfnas.commands.reproduce", "reproduce the paper's tables: `tfnas reproduce rnn|bert`"),
    "ablate": ("tfnas.commands.ablate", "minibatch and initialisation ablations of the RNN metrics"),
    "zoo": ("tfnas.commands.zoo", "the zero-cost proxy table of one space"),
    "compare": ("tfnas.commands.compare", "measured search quality of pipelines on a tabular benchmark"),
    "sensitivity": ("tfnas.commands.sensitivity", "how much the calibrated ensemble depends on its settings"),
    "validate-training": ("tfnas.commands.validate_training", "how far short training ranks like the benchmark"),
    "seed-agreement": ("tfnas.commands.seed_agreement", "how far two training seeds of short training agree"),
    "stability": ("tfnas.commands.stability", "train labelled RNN cells and report every divergence"),
    "bench": ("tfnas.commands.bench", "speed: `tfnas bench` (metrics, --eval-batch, --build-time), `tfnas bench train`, "
                                      "`tfnas bench study-reads`"),
}
