"""A short, human-sized summary of a dossier (for the CLI and the dashboard)."""

from __future__ import annotations

from collections import Counter

from . import careplans, heelprick, perinatal
from .model import Dossier

#: Names of the consent elements a summary spells out.
_CONSENTS = {1163: "transfer consent", 1395: "transfer objection", 1165: "third-party consent"}


def summarise(dossier: Dossier, source: str = "") -> dict:
    rubrieken = Counter(r.rubriek for a in dossier.activities for r in a.rubrieken if r.rubriek)
    born, _ = perinatal.items(n for n in dossier.extra if perinatal.holds(n))  # R014-R016: the dossier's own
    rubrieken.update(perinatal.rubriek_of(number) for number, _ in born)
    rubrieken.update(careplans.RUBRIEK[careplans.items(n)[0]] for n in dossier.extra if careplans.holds(n))  # R035, R048
    rubrieken.update("R037" for a in dossier.activities for n in a.extra if heelprick.holds(n))  # the heel prick
    vaccinations = [v for a in dossier.activities for v in a.vaccinations]
    consents = []
    for c in dossier.consents:
        name = _CONSENTS.get(c.element, f"element {c.element}")
        consents.append(f"{name}: {'yes' if c.affirmed else 'no'}")
    person = dossier.patient.person if dossier.patient else None
    birth = person.birth_time.value if person and person.birth_time else None
    return {
        "file": source,
        "interaction": dossier.interaction,
        "bds_version": dossier.bds_version,
        "bsn": dossier.bsn,
        "birth_date": birth[:8] if birth else None,
        "sender_ura": dossier.transmission.author_ura,
        "dossier_status": dossier.status_code.code if dossier.status_code else None,
        "activities": len(dossier.activities),
        "rubrieken": sorted(rubrieken),
        "observations": len(dossier.observations()),
        "vaccinations": len(vaccinations),
        "refusals": sum(1 for v in vaccinations if v.negation_ind == "true"),
        "consents": consents,
    }
