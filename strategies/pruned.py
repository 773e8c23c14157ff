"""Pruning by a qualitative rule: shrink the space with a predicate, then search inside it.

`rule` is a predicate over `space.describe(arch)` fields (see tfnas.rules), or `auto` to take
the rule from a benchmark analysis: a function `analysis(space) -> str` named by its dotted
path ("package.module:function"), or, when `analysis` is null, the space's own
`qualitative_rule()` method where the space provides one. Inside the pruned space runs
`inner` (any strategy), or, with `inner: null`, a plain ranking: every member of the pruned
pool is scored once (in random order) and the search keeps the best by the metric.
"""
from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from tfnas.search_space import SearchSpace, SpaceWrapper
from tfnas.strategy import STRATEGIES, Candidate, Strategy
from tfnas.errors import ConfigError, InvalidArchitecture
from tfnas.rules import Rule


class RuleSpace(SpaceWrapper):
    """An unbounded space cut down by a rule: rejection sampling, mutation retried until the
    child satisfies the rule, and suggestions that break the rule rejected (the trial fails)."""

    def __init__(self, space: SearchSpace, rule: Rule, max_draws: int = 10_000):
        super().__init__(space)
        self.rule, self.max_draws = rule, int(max_draws)

    def keeps(self, arch: Any) -> bool:
        return self.rule(self.inner.describe(arch))

    def sample(self, rng):
        for _ in range(self.max_draws):
            arch = self.inner.sample(rng)
            if self.keeps(arch):
                return arch
        raise ConfigError(
            self.rule.field, f"no architecture among {self.max_draws} samples of space {self.name!r} satisfies rule {self.rule.text!r}"
        )

    def mutate(self, arch, rng):
        for _ in range(100):
            child = self.inner.mutate(arch, rng)
            if self.keeps(child):
                return child
        return self.sample(rng)

    def suggest(self, trial):
        arch = self.inner.suggest(trial)
        if not self.keeps(arch):
            raise InvalidArchitecture(f"pruned by rule {self.rule.text!r}")
        return arch

    def validate(self, arch):
        self.inner.validate(arch)
        if not self.keeps(arch):
            raise InvalidArchitecture(f"pruned by rule {self.rule.text!r}")


ANALYSIS_ENTRY_POINTS = "tfnas.analyses"


def allowed_analysis(analysis: str) -> str:
    """The `module:function` path of `analysis` if it may be imported, else a ConfigError.

    Only code tfnas already trusts is imported: a function of a registered space's package (its
    benchmark analysis), of tfnas.analysis, or one a plug-in declares in the `tfnas.analyses`
    entry-point group (given by its entry-point name or its value)."""
    from importlib.metadata import entry_points

    for entry in entry_points(group=ANALYSIS_ENTRY_POINTS):
        if analysis in (entry.name, entry.value):
            return entry.value
    module_name, sep, func_name = analysis.partition(":")
    # the packages the space registry imports (built-in spaces, `tfnas.spaces` plug-ins), named without importing them
    plugins = [entry.value.split(":")[0].rsplit(".", 1)[0] for entry in entry_points(group="tfnas.spaces")]
    packages = ["tfnas.analysis", "tfnas.search_spaces", *plugins]
    if sep and func_name and any(module_name == p or module_name.startswith(p + ".") for p in packages):
        return analysis
    raise ConfigError(
        "strategy.analysis",
        f"{analysis[:200]!r} is not a known analysis: give package.module:function inside a registered space "
        f"({', '.join(sorted(set(packages)))}) or the name of a `{ANALYSIS_ENTRY_POINTS}` entry point",
    )


def resolve_rule(rule: str, space, analysis: str | None = None) -> str:
    """The rule text; `auto` asks the benchmark analysis (a dotted function path, or the space's own)."""
    if str(rule).strip() != "auto":
        return str(rule)
    if analysis:
        path = allowed_analysis(str(analysis))
        module_name, _, func_name = path.partition(":")
        try:
            func = getattr(importlib.import_module(module_name), func_name)
        except (ImportError, AttributeError) as err:
            raise ConfigError("strategy.analysis", f"cannot load {analysis!r} (write package.module:function): {err}") from None
        return str(func(space))
    return space.qualitative_rule()


@STRATEGIES.register("pruned")
class PrunedSearch(Strategy):
    name = "pruned"

    def __init__(self, rule: str, inner: Strategy | None = None, analysis: str | None = None, max_draws: int = 10_000):
        if rule is None:
            raise ConfigError("strategy.rule", "missing: a predicate over the space's fields, or auto")
        self.rule_text = str(rule)
        if self.rule_text.strip() != "auto":
            Rule(self.rule_text)  # syntax and constant bounds are refused here, before the search's store is opened
        elif analysis:
            allowed_analysis(str(analysis))
        self.inner = inner
        self.analysis = analysis
        self.max_draws = int(max_draws)
        if inner is not None:
            self.extra_objectives = inner.extra_objectives
            self.name = f"pruned+{inner.name}"
        else:
            self.name = "pruned+ranking"

    def sampler(self, seed: int):
        return self.inner.sampler(seed) if self.inner is not None else None

    def check_space(self, space) -> None:
        """Resolve the rule for `space` and try it on one architecture: unknown fields and type mixes
        are refused here, before the search's store is opened (bind reuses the result)."""
        if getattr(self, "_checked", (None,))[0] is space:
            return
        rule = Rule(resolve_rule(self.rule_text, space, self.analysis))
        members = space.members()
        probe_arch = members[0] if members else space.sample(np.random.default_rng(0))
        rule.check_fields(space.describe(probe_arch), space.name)
        rule(space.describe(probe_arch))  # a rule that mixes types fails here, once, not mid-search
        self._checked = (space, rule)

    def bind(self, space, rng, study=None) -> None:
        super().bind(space, rng, study)
        self.check_space(space)
        self.rule = self._checked[1]
        members = space.members()
        if members is not None:
            try:
                self.pruned = space.restrict(lambda a: self.rule(space.describe(a)))
            except ConfigError:
                raise ConfigError("strategy.rule", f"rule {self.rule.text!r} keeps none of the {len(space)} architectures of the {space.label}") from None
        else:
            self.pruned = RuleSpace(space, self.rule, self.max_draws)
        if self.inner is None:
            if self.pruned.members() is None:
                raise ConfigError(
                    "strategy.inner",
                    "a plain ranking (inner: null) needs a finite pool: set search.pool=benchmark, or choose an inner strategy",
                )
            order = rng.permutation(len(self.pruned))
            pool = self.pruned.members()
            self._queue = [pool[i] for i in order]
            self._seen: set[str] = set()
        else:
            self.inner.bind(self.pruned, rng, study)

    @property
    def size(self) -> int | None:
        """Architectures left after pruning (None for an unbounded space)."""
        members = self.pruned.members()
        return None if members is None else len(members)

    def ask(self) -> Candidate:
        if self.inner is not None:
            return self.inner.ask()
        while self._queue:
            arch = self._queue.pop()
            if self.space.hash(arch) not in self._seen:
                return self._candidate(arch)
        raise StopIteration("every architecture of the pruned pool has been ranked")

    def tell(self, candidate: Candidate, score: float, duplicate: bool = False) -> None:
        if self.inner is not None:
            self.inner.tell(candidate, score, duplicate)

    def observe(self, arch, score: float) -> None:
        if self.inner is not None:
            self.inner.observe(arch, score)
        else:
            self._seen.add(self.space.hash(arch))
