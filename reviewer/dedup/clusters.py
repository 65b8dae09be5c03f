"""Forming clusters from CERTAIN pairs without chaining false merges.

Connected components would chain: A~B and B~C put A and C together even when A and C
clearly differ. Instead clusters grow greedily, strongest edge first:

1. CERTAIN edges are sorted by score (highest first, then input order).
2. Each edge joins the two clusters of its records only if no member of one cluster
   *conflicts* with any member of the other. Two records conflict when they carry different
   DOIs or PMIDs, a trap rule fires between them, a person declared them "not duplicate"
   (cannot-link), or both have titles that clearly differ (similarity < 0.8) without a
   shared identifier. Pairs never scored during the run are evaluated on demand.
3. An edge that cannot join is reported back so the engine downgrades it to POSSIBLE: a
   person decides.

Every cluster therefore has no conflicting pair inside it, whatever order the input came in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable


def greedy_clusters(
    size: int,
    edges: Iterable[tuple[float, int, int]],
    conflicts: Callable[[int, int], bool],
) -> tuple[list[list[int]], list[tuple[int, int, int, int]]]:
    """Cluster ``size`` records from weighted edges ``(score, i, j)``.

    Returns the clusters (member indexes ascending, size >= 2, ordered by first member) and
    the rejected edges as ``(i, j, a, b)`` where ``a`` and ``b`` are the conflicting records
    that kept the two clusters apart.
    """
    owner = list(range(size))
    members: dict[int, list[int]] = {}
    rejected: list[tuple[int, int, int, int]] = []
    for _score, first, second in sorted(edges, key=lambda edge: (-edge[0], edge[1], edge[2])):
        root_a, root_b = owner[first], owner[second]
        if root_a == root_b:
            continue
        group_a = members.get(root_a, [root_a])
        group_b = members.get(root_b, [root_b])
        blocker = _first_conflict(group_a, group_b, conflicts)
        if blocker is not None:
            rejected.append((first, second, *blocker))
            continue
        if len(group_a) < len(group_b):
            root_a, root_b, group_a, group_b = root_b, root_a, group_b, group_a
        merged = group_a + group_b
        for index in group_b:
            owner[index] = root_a
        members[root_a] = merged
        members.pop(root_b, None)
    clusters = [sorted(group) for group in members.values() if len(group) >= 2]
    clusters.sort(key=lambda group: group[0])
    return clusters, rejected


def _first_conflict(
    group_a: list[int], group_b: list[int], conflicts: Callable[[int, int], bool]
) -> tuple[int, int] | None:
    for a in group_a:
        for b in group_b:
            if conflicts(a, b):
                return (a, b)
    return None
