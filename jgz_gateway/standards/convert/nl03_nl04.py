"""BDS 4.0 ↔ 4.1.3 (both REPC_IN902120NL03) and 4.1.3 ↔ 4.2.0 (REPC_IN902120NL04).

4.1.3 → 4.2.0 follows what docs/jgz-standards.md §1.6/§2.6 reports of Nictiz's
``dob-bds413-to-bds420.xsl``: new interaction, the 4.2.0 names of rubrieken, groepen and
elementen (values keep theirs), deprecated and removed elements dropped, rubrieken (and
groepen) left empty removed. The NL04 message model is the NL03 one (the NL04 examples
use the same templates), so nothing else moves.

Going down, 4.2.0-only elements cannot be observations in a 4.1.3 message: they travel as
non-BDS data (question and answer) of their activity, the standard's own place for
data outside the receiver's BDS, and a coded value the 4.1.3 value set lacks is sent as
``nullFlavor="OTH"`` with its name as original text. A groep that repeats an element
more often than 4.1.3 allows in one groep (4.2.0 puts several "Erfelijk bepaalde ziekte"
(80) in one G019) becomes one groep per repetition, as the 4.1.3 dataset records them.
"""

from __future__ import annotations

import copy

from ..catalogue import NULL_FLAVOR_CS
from . import versions
from .common import (
    Step, activities, activity_codes, clusters, element_number, make, move_unsupported, observations, q,
    rename_interaction, update_display_names,
)


def up_413(step: Step) -> None:
    """4.0 → 4.1.3: same message; 4.1.3 only adds elements and renames R054."""
    update_display_names(step)


def down_413(step: Step) -> None:
    """4.1.3 → 4.0: elements added in 4.1 become non-BDS data."""
    update_display_names(step)
    move_unsupported(step, versions.carried("4.0"), "non-bds",
                     why=lambda n: f"element {n} is not part of the BDS 4.0 dossier transfer")


def up_420(step: Step) -> None:
    update_display_names(step)
    rename_interaction(step, versions.INTERACTION["4.2.0"])
    move_unsupported(step, versions.carried("4.2.0"), "drop", why=_why_dropped)
    activity_codes(step)


def down_420(step: Step) -> None:
    update_display_names(step)
    rename_interaction(step, versions.INTERACTION["4.1.3"])
    move_unsupported(step, versions.carried("4.1.3"), "non-bds",
                     why=lambda n: f"element {n} is new in BDS 4.2.0")
    activity_codes(step)
    unknown_codes(step)
    split_repeating_groups(step)


def _why_dropped(number: int) -> str:
    element = versions.catalogue("4.2.0").element(number)
    if element is not None and element.deprecated:
        return f"element {number} is deprecated in BDS 4.2.0 and dropped"
    if number in versions.REMOVED_IN_420:
        return f"element {number} is removed from the dossier transfer in BDS 4.2.0 and dropped"
    return f"element {number} is not part of BDS 4.2.0 and dropped"


def unknown_codes(step: Step) -> None:
    """A coded observation value outside the target's value set becomes nullFlavor OTH.

    Only where the target version publishes the set itself (no fallback) and the code
    is in one of the set's own code systems, so a foreign coding is left alone.
    """
    for act in activities(step.root):
        for cluster in clusters(act):
            for obs in observations(cluster):
                number = element_number(obs)
                element = step.dst.element(number) if number is not None else None
                if element is None:
                    continue
                for path, w in element.bindings.items():
                    target = obs.find("/".join(q(p) for p in path.split("/")))
                    vs = step.dst.valueset(w)
                    if target is None or vs is None or vs.fallback:
                        continue
                    code, cs = target.get("code"), target.get("codeSystem")
                    if not code or cs == NULL_FLAVOR_CS or cs not in vs.hl7_code_systems or vs.contains_hl7(code, cs):
                        continue
                    text = target.get("displayName") or code
                    step.log("changed", "CONV-CODE-UNKNOWN", target,
                             f"{w} has no code {code} in BDS {step.target}: sent as nullFlavor OTH with its name",
                             element=number, old=f"{code}@{cs}", new="OTH")
                    for attr in ("code", "codeSystem", "displayName", "codeSystemName", "codeSystemVersion"):
                        target.attrib.pop(attr, None)
                    target.set("nullFlavor", "OTH")
                    if target.find(q("originalText")) is None:
                        target.insert(0, make("originalText", text=text))


def split_repeating_groups(step: Step) -> None:
    """Split a groupCluster that holds an element more often than the target allows per groep."""
    for act in activities(step.root):
        for cluster in clusters(act):
            for group in list(cluster.iter(q("groupCluster"))):
                _split(step, group)


def _limit(step: Step, number: int | None) -> int | None:
    element = step.dst.element(number) if number is not None else None
    if element is None or "hl7_cardinality" in element.fallbacks or not element.hl7_cardinality:
        return None
    return element.hl7_cardinality[1]


def _split(step: Step, group) -> None:
    parts: list[list] = [[]]
    counts: dict[int, int] = {}
    for comp in group.findall(q("component")):
        obs = comp.find(q("observation"))
        number = element_number(obs) if obs is not None else None
        limit = _limit(step, number)
        if limit is not None and counts.get(number, 0) >= limit:
            parts.append([])
            counts = {}
        parts[-1].append(comp)
        if number is not None:
            counts[number] = counts.get(number, 0) + 1
    if len(parts) == 1:
        return
    wrapper = group.getparent()
    code = group.find(q("code"))
    groep = code.get("code") if code is not None else None
    anchor = wrapper
    for part in parts[1:]:
        new_wrapper = copy.deepcopy(wrapper)
        new_group = new_wrapper.find(q("groupCluster"))
        for comp in new_group.findall(q("component")):
            new_group.remove(comp)
        for comp in part:
            group.remove(comp)
            new_group.append(comp)
        anchor.addnext(new_wrapper)
        anchor = new_wrapper
    step.log("changed", "CONV-SPLIT-GROEP", group,
             f"groep {groep} split into {len(parts)} groepen: BDS {step.target} allows each element once per groep",
             element=groep)
