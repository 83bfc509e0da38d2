"""Independent parts of a place: groups of PCNs whose patients never share capacity.

A patient books only at their practice, their PCN's network pool and, in a network of networks, the
pool its member PCNs share. So PCNs that share nothing across their boundary evolve independently
given the run seed, and a place can be simulated one group at a time (memory for one group, not for
all of England) or several groups side by side (threads), with the same numbers as simulating it
whole, provided a person's id, which keys all their random draws, does not depend on the other groups:
- the initial list numbers patients by their slot in the whole place (practices in scenario order);
- each group numbers its newcomers (births and new registrations) on its own: group g of G in a place
  of N initial patients gives ids N + g, N + g + G, N + g + 2G, ... (one group: N, N + 1, ...).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .scenario import Scenario


@dataclass(frozen=True)
class PersonIds:
    """How a run numbers persons (engine tables `first_pid`, `practice_group`, `entrant_pid`, `pid_stride`)."""

    first_pid: np.ndarray  # [practices] id of each practice's first initial patient
    practice_group: np.ndarray  # [practices] index into entrant_pid
    entrant_pid: np.ndarray  # [groups in the run] id of each group's next newcomer
    stride: int  # step between a group's newcomer ids: the place's number of groups


def groups(sc: Scenario) -> list[list[int]]:
    """PCN indices of each independent group, in scenario order: the members of a network of networks
    that shares anything (trust > 0) together, where its first member stands; every other PCN alone."""
    non = sc.levers.network_of_networks
    members: list[int] = []
    if non.enabled and non.trust > 0:
        names = non.pcns if non.pcns is not None else [pcn.name for pcn in sc.pcns]
        members = [c for c, pcn in enumerate(sc.pcns) if pcn.name in names]
    joined = set(members)
    out: list[list[int]] = []
    for c in range(len(sc.pcns)):
        if c not in joined:
            out.append([c])
        elif c == members[0]:
            out.append(members)
    return out


class Partition:
    """A place cut into its independent groups, with what a run of one group alone needs."""

    def __init__(self, sc: Scenario):
        self.place = sc
        self.groups = groups(sc)
        self.practice_pcn = np.array([c for c, pcn in enumerate(sc.pcns) for _ in pcn.practices], np.int64)
        sizes = np.array([p.list_size for pcn in sc.pcns for p in pcn.practices], np.int64)
        self.first_pid = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        self.n_patients = int(sizes.sum())
        self.group_of_pcn = np.empty(len(sc.pcns), np.int32)
        for g, pcns in enumerate(self.groups):
            self.group_of_pcn[pcns] = g

    def __len__(self) -> int:
        return len(self.groups)

    def ids(self, group: int | None = None) -> PersonIds:
        """Person ids for a run of the whole place (group None) or of one of its groups alone."""
        n_groups = len(self.groups)
        if group is None:
            return PersonIds(self.first_pid, self.group_of_pcn[self.practice_pcn],
                             self.n_patients + np.arange(n_groups, dtype=np.int64), n_groups)
        chosen = self.practices(group)
        return PersonIds(self.first_pid[chosen], np.zeros(len(chosen), np.int32),
                         np.array([self.n_patients + group], np.int64), n_groups)

    def practices(self, group: int) -> np.ndarray:
        """Index in the whole place of each of the group's practices (in the group's order)."""
        return np.flatnonzero(self.group_of_pcn[self.practice_pcn] == group)

    def units(self, group: int) -> np.ndarray:
        """Index in the whole place of each of the group's capacity units: practices, network pools, then
        the shared pool of a network of networks (see `pcnsim.params.Layout`)."""
        pcns = self.groups[group]
        n_p, n_c = len(self.practice_pcn), len(self.place.pcns)
        units = [self.practices(group), n_p + np.asarray(pcns)]
        if len(pcns) > 1:  # a network of networks's members
            units.append(np.array([n_p + n_c]))
        return np.concatenate(units).astype(np.int64)

    def scenario(self, group: int) -> Scenario:
        """The place restricted to one group's PCNs, with the levers that reach across groups pinned:
        shared expertise only where its home practice is, a network of networks only for its members."""
        sc = self.place
        pcns = [sc.pcns[c] for c in self.groups[group]]
        practice_names = {p.name for pcn in pcns for p in pcn.practices}
        lv = sc.levers
        se = lv.shared_expertise
        home = se.home_practice or sc.pcns[0].practices[0].name
        se = se.model_copy(update={"home_practice": home, "enabled": se.enabled and home in practice_names})
        non = lv.network_of_networks
        non = non.model_copy(update={"pcns": [pcn.name for pcn in pcns], "enabled": non.enabled and len(pcns) > 1})
        levers = lv.model_copy(update={"shared_expertise": se, "network_of_networks": non})
        return sc.model_copy(update={"pcns": pcns, "levers": levers})


def person_ids(sc: Scenario) -> PersonIds:
    """Person ids for a run of the whole place."""
    return Partition(sc).ids()
