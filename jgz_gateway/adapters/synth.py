"""Synthetic, realistic, BDS-valid JGZ dossiers: deterministic for a seed and a reference date.

Each child gets an age between 0 and 18 on the reference date and a life in the JGZ up to
then: the neonatal hearing screening, contact moments following the W0188 schedule, growth
along Dutch reference curves (length, weight, head circumference) with the child's own
SD score, Van Wiechen items per age column, vision screening, the national vaccination
schedule (RVP) with some refusals and reactions, parents, consents and objections,
non-BDS free text, and one to three JGZ organisations over time.

Nothing here reads the clock or a global random state: dossier ``i`` of seed ``s`` comes
from ``random.Random(f"{s}:{i}")`` and the reference date, so any slice of a run can be
regenerated on its own. Identity data are synthetic: BSNs come from a marked test range
(:data:`BSN_TEST_PREFIX`) and pass the 11-proef; organisation numbers start with 9.
"""

from __future__ import annotations

import datetime as dt
import random
from array import array
from decimal import Decimal
from functools import cache
from typing import Iterator

from .record import Facts, Group, Other, Record, Repeated

#: Synthetic BSNs are the 11-proef-valid numbers ``999xxxxxx``. The Nictiz test messages
#: use 9999xxxxx; the wider 999 block gives enough numbers for 90,000 children.
BSN_TEST_PREFIX = "999"

GIRLS = ["Emma", "Julia", "Mila", "Tess", "Sophie", "Zoë", "Sara", "Nora", "Yara", "Eva", "Liv", "Saar", "Anna",
         "Noor", "Lotte", "Fenna", "Isa", "Lina", "Fleur", "Nina", "Amira", "Hiba", "Elif", "Maja", "Roos", "Vera"]
BOYS = ["Noah", "Luca", "Liam", "Sem", "Lucas", "Levi", "Finn", "Daan", "Mees", "James", "Milan", "Adam", "Sam",
        "Bram", "Jesse", "Thijs", "Mohamed", "Yusuf", "Ayoub", "Emir", "Jan", "Ruben", "Tim", "Lars", "Otis", "Jens"]
ADULT_F = ["Linda", "Marieke", "Sanne", "Fatima", "Esra", "Anouk", "Iris", "Kim", "Nadia", "Sabine", "Femke", "Joyce"]
ADULT_M = ["Mark", "Dennis", "Bas", "Rachid", "Mehmet", "Jeroen", "Kevin", "Sander", "Tom", "Erik", "Niels", "Vincent"]
FAMILY = [("", "Jansen"), ("de", "Vries"), ("van den", "Berg"), ("van", "Dijk"), ("", "Bakker"), ("", "Visser"),
          ("", "Smit"), ("", "Meijer"), ("de", "Boer"), ("", "Mulder"), ("de", "Groot"), ("", "Bos"), ("", "Vos"),
          ("", "Peters"), ("", "Hendriks"), ("van", "Leeuwen"), ("", "Dekker"), ("", "Brouwer"), ("de", "Wit"),
          ("", "Dijkstra"), ("", "Smits"), ("de", "Graaf"), ("van der", "Meer"), ("van der", "Linden"),
          ("", "Kok"), ("", "Jacobs"), ("de", "Haan"), ("", "Vermeulen"), ("van den", "Heuvel"), ("van der", "Veen"),
          ("", "El Amrani"), ("", "Yilmaz"), ("", "Kaya"), ("", "Ramdin"), ("", "Kowalski"), ("", "Haddad")]
STREETS = ["Dorpsstraat", "Kerkstraat", "Schoolstraat", "Molenweg", "Stationsweg", "Beatrixlaan", "Julianastraat",
           "Lindenlaan", "Eikenlaan", "Parallelweg", "Nieuwstraat", "Wilhelminastraat", "Tulpstraat", "Kastanjelaan"]
CITIES = [("Assen", "94"), ("Zwolle", "80"), ("Apeldoorn", "73"), ("Utrecht", "35"), ("Leiden", "23"),
          ("Tilburg", "50"), ("Groningen", "97"), ("Almere", "13"), ("Delft", "26"), ("Venlo", "59")]
#: Fictional JGZ organisations (URA and AGB numbers in a test block starting with 9).
ORGANISATIONS = [("90000011", "99990011", "JGZ Noord (synthetisch)"), ("90000022", "99990022", "JGZ Oost (synthetisch)"),
                 ("90000033", "99990033", "GGD Midden (synthetisch)"), ("90000044", "99990044", "JGZ West (synthetisch)"),
                 ("90000055", "99990055", "GGD Zuid (synthetisch)"), ("90000066", "99990066", "CJG Kust (synthetisch)")]
CARE_PROVIDERS = [("Logopediepraktijk", "logopedist"), ("Fysiotherapie", "kinderfysiotherapeut"),
                  ("Jeugdteam", "jeugdconsulent"), ("Kinderpraktijk", "orthopedagoog")]
OCCUPATIONS = ["verpleegkundige", "timmerman", "leerkracht basisonderwijs", "chauffeur", "administratief medewerker"]
CHILDCARE = ["Kinderopvang De Boefjes", "Peuterspeelzaal Het Kikkertje", "BSO De Klimboom", "Kinderdagverblijf Dikkertje Dap"]
SCHOOLS = ["Basisschool De Regenboog", "OBS De Wegwijzer", "CBS Het Kompas", "Lyceum", "Scholengemeenschap"]
PROFESSIONALS = {"01": ["A. Kramer", "S. Bouali", "M. van Rijn"], "02": ["L. de Jong", "P. Hoekstra", "E. Sahin"],
                 "03": ["R. Tromp", "K. Lam"], "07": ["D. Pronk", "H. Vink"]}
BIRTH_COUNTRIES = [("6030", 80), ("5022", 4), ("6043", 4), ("5007", 3), ("7028", 3), ("7009", 2), ("9003", 1),
                   ("5010", 1), ("6029", 2)]
CONCLUSIONS = ["Groeit en ontwikkelt zich goed", "Geen bijzonderheden", "Gewicht blijft achter; over 4 weken wegen",
               "Spraak-taalontwikkeling volgen", "Ouders gerustgesteld over huilen"]
REACTIONS = ["koorts (38,5) de avond na vaccinatie", "rode zwelling op de prikplaats", "veel gehuild en hangerig",
             "bleek en slap, snel hersteld", "huiduitslag rond de prikplaats"]
NOTES = [("R019", "Voorkeur tijdstip afspraak", ["ochtend", "middag", "na schooltijd"]),
         ("R030", "Zwemdiploma", ["A", "A en B", "nog niet"]),
         ("R019", "Gebruikt vitamine D", ["ja", "nee", "soms"]),
         ("R034", "Steun uit netwerk", ["grootouders", "buren", "geen"]),
         ("R021", "Slaapt door", ["ja", "nee, wordt 1x wakker", "wisselend"])]

# Dutch reference medians (age in days → mm / g), boys and girls (close to TNO 2010 curves).
_LENGTH = {"1": [(0, 505), (30, 545), (61, 580), (91, 610), (183, 675), (274, 720), (365, 760), (548, 825),
                 (730, 885), (1095, 975), (1461, 1055), (2191, 1195), (2922, 1325), (3652, 1440), (4383, 1550),
                 (5113, 1680), (5844, 1790), (6940, 1840)],
           "2": [(0, 495), (30, 535), (61, 570), (91, 600), (183, 660), (274, 705), (365, 745), (548, 810),
                 (730, 870), (1095, 965), (1461, 1045), (2191, 1185), (2922, 1315), (3652, 1435), (4383, 1560),
                 (5113, 1640), (5844, 1680), (6940, 1700)]}
_WEIGHT = {"1": [(0, 3500), (30, 4400), (61, 5500), (91, 6300), (183, 7900), (274, 9000), (365, 9900),
                 (548, 11100), (730, 12400), (1095, 14500), (1461, 16500), (2191, 21000), (2922, 26000),
                 (3652, 32000), (4383, 40000), (5113, 51000), (5844, 61000), (6940, 69000)],
           "2": [(0, 3350), (30, 4200), (61, 5100), (91, 5800), (183, 7300), (274, 8400), (365, 9300),
                 (548, 10500), (730, 11800), (1095, 14000), (1461, 16000), (2191, 20500), (2922, 25500),
                 (3652, 32000), (4383, 41000), (5113, 50000), (5844, 55000), (6940, 58000)]}
_HEAD = {"1": [(0, 350), (30, 375), (61, 392), (91, 405), (183, 435), (274, 452), (365, 462), (548, 478), (730, 488)],
         "2": [(0, 343), (30, 367), (61, 383), (91, 396), (183, 424), (274, 441), (365, 451), (548, 466), (730, 477)]}

# Van Wiechen items per age column (W0677), by element number.
VAN_WIECHEN = {
    "01": [879, 881, 883, 927, 961, 962, 964], "02": [881, 883, 884, 885, 928, 930, 962, 966],
    "03": [884, 885, 886, 887, 930, 931, 966, 968, 970, 971], "05": [888, 889, 890, 891, 931, 932, 973, 975],
    "07": [892, 893, 894, 896, 897, 898, 933, 934, 977, 978, 980], "08": [900, 902, 903, 935, 936, 1278, 982, 984],
    "10": [905, 906, 907, 909, 937, 938, 986], "11": [910, 912, 913, 939, 940, 941, 989],
    "13": [914, 916, 917, 943, 945, 947, 991], "15": [918, 920, 921, 948, 949, 950, 993, 994, 996, 998],
    "17": [922, 923, 926, 951, 953, 954, 999, 1001, 1002],
}
#: Items whose value set (W0438) also has "M" (not observed / mother reports).
_WITH_M = {886, 892, 893, 900, 905, 909, 913, 921, 927, 928, 930, 931, 932, 933, 934, 935, 936, 937, 938, 939, 940,
           941, 943, 947, 948, 949, 950, 953, 954, 973, 980, 982, 984, 998, 1278}

# The contact schedule: (age in days, W0188 code, form, discipline, what happens).
SCHEDULE = [
    (5, "35", "06", "07", {"ngs"}),
    (8, "01", "06", "02", {"weight"}),
    (14, "37", "06", "02", {"growth"}),
    (28, "37", "03", "01", {"growth", "vw:01", "eyes", "head"}),
    (56, "37", "03", "03", {"growth", "vw:02", "head"}),
    (91, "37", "03", "01", {"growth", "vw:03", "head", "vacc:1"}),
    (152, "37", "03", "03", {"growth", "head", "vacc:2"}),
    (183, "37", "03", "01", {"growth", "vw:05", "head", "eyes"}),
    (228, "38", "03", "02", {"growth", "head"}),
    (274, "38", "03", "01", {"growth", "vw:07", "head"}),
    (335, "38", "03", "01", {"growth", "vw:08", "vacc:3"}),
    (426, "39", "03", "01", {"growth", "vw:10", "vacc:4"}),
    (548, "39", "03", "02", {"growth", "vw:11"}),
    (730, "39", "03", "01", {"growth", "vw:13"}),
    (1095, "39", "03", "01", {"growth", "vw:15", "visus"}),
    (1370, "39", "03", "02", {"growth", "vw:17", "visus", "vacc:5"}),
    (2010, "40", "03", "01", {"growth", "visus"}),
    (3290, "40", "05", "03", {"vacc:9y"}),
    (3660, "40", "05", "03", {"vacc:hpv1"}),
    (3850, "40", "03", "02", {"growth", "vacc:hpv2"}),
    (4930, "41", "03", "01", {"growth"}),
    (5115, "41", "05", "03", {"vacc:14y"}),
]
# 163 Bijzonderheden huid/haar/nagels seen in young children: eczema, naevus, haemangioma,
# nappy rash, cradle cap, mongolian spot, stork bite
SKIN_FINDINGS = ["03", "04", "07", "11", "15", "19", "20"]
# Vaccines W0422 does not list, given at a JGZ vaccination moment for a reason of W0417
# (02 parents' birth country endemic, 06 medical, 07 on request); written as "other" (OTH).
OTHER_VACCINES = [("Hepatitis A", "02"), ("Waterpokken (varicella)", "06"), ("COVID-19", "07")]
_OTHER_AT = {"4", "5", "9y", "14y"}  # from 14 months on
_VACCINES = {"1": ["11", "08"], "2": ["11", "08"], "3": ["11", "08"], "4": ["04", "28"], "5": ["01"],
             "9y": ["02", "04"], "hpv1": ["09"], "hpv2": ["09"], "14y": ["28"]}


def _pdf(title: str) -> str:
    """A one-page PDF with ``title`` as its document title, base64 (a synthetic attachment)."""
    import base64

    body = (f"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
            f"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n4 0 obj<</Title({title})>>endobj\n"
            f"trailer<</Root 1 0 R/Info 4 0 R>>\n%%EOF\n")
    return base64.b64encode(body.encode("latin-1", "replace")).decode("ascii")


def _check_digit(eight: str) -> int:
    return sum(int(d) * w for d, w in zip(eight, range(9, 1, -1))) % 11


@cache
def _test_bsns() -> array:
    """All 11-proef-valid numbers of the test range, in order."""
    out = array("I")
    base = int(BSN_TEST_PREFIX) * 100_000
    for n in range(base, base + 100_000):
        check = _check_digit(f"{n:08d}")
        if check < 10:
            out.append(n * 10 + check)
    return out


def bsn(index: int) -> str:
    """The ``index``-th synthetic BSN (wraps after the ~90,900 numbers of the range)."""
    numbers = _test_bsns()
    return f"{numbers[index % len(numbers)]:09d}"


def is_valid_bsn(value: str) -> bool:
    """The 11-proef (with the last digit weighted -1)."""
    if len(value) != 9 or not value.isdecimal():
        return False
    return (sum(int(d) * w for d, w in zip(value, range(9, 1, -1))) - int(value[8])) % 11 == 0


def _curve(points: list[tuple[int, int]], days: int) -> float:
    if days <= points[0][0]:
        return points[0][1]
    for (d0, v0), (d1, v1) in zip(points, points[1:]):
        if days <= d1:
            return v0 + (v1 - v0) * (days - d0) / (d1 - d0)
    return points[-1][1]


class _Child:
    def __init__(self, rng: random.Random, index: int, today: dt.date):
        self.rng = rng
        self.index = index
        self.today = today
        self.key = f"C{index + 1:07d}"
        self.age = rng.randrange(0, 19 * 365)  # days, 0 to 18 years
        self.birth = today - dt.timedelta(days=self.age)
        self.sex = rng.choice("12") if rng.random() > 0.002 else "3"
        self.curve_sex = self.sex if self.sex in ("1", "2") else "2"
        self.z_length = rng.gauss(0, 1)
        self.z_weight = 0.6 * self.z_length + 0.8 * rng.gauss(0, 1)
        self.z_head = 0.5 * self.z_length + 0.85 * rng.gauss(0, 1)
        self.refuses = rng.random()  # < 0.04 refuses all vaccinations, < 0.08 some
        self.care = "01" if rng.random() > 0.05 else rng.choice(["02", "03", "03", "03"])
        self.organisations = self.make_organisations()
        self.contact_seq = 0

    def days(self, date: dt.date) -> int:
        return (date - self.birth).days

    def make_organisations(self) -> list[tuple[tuple[str, str, str], dt.date, dt.date | None]]:
        rng = self.rng
        count = 1 if rng.random() < 0.8 or self.age < 200 else (2 if rng.random() < 0.9 else 3)
        picks = rng.sample(ORGANISATIONS, count)
        moves = sorted(rng.sample(range(60, self.age, 30), count - 1))  # at least a month apart
        starts = [self.birth] + [self.birth + dt.timedelta(days=m) for m in moves]
        out = []
        for i, org in enumerate(picks):
            end = starts[i + 1] - dt.timedelta(days=1) if i + 1 < count else None
            out.append((org, starts[i], end))
        return out

    def organisation_on(self, date: dt.date) -> tuple[str, str, str]:
        for org, start, end in self.organisations:
            if start <= date and (end is None or date <= end):
                return org
        return self.organisations[-1][0]

    # --- the dossier --------------------------------------------------------------------

    def record(self) -> Record:
        rng = self.rng
        f = Facts()
        v = f.values
        prefix, family = rng.choice(FAMILY)
        first = rng.choice(GIRLS if self.sex == "2" else BOYS)
        v.update({695: self.key, 696: "02", 7: bsn(self.index), 4: family, 6: first, 19: self.sex, 20: self.birth})
        if prefix:
            v[3] = prefix
        if rng.random() < 0.3:
            v[6] = f"{first} {rng.choice(GIRLS if self.sex == '2' else BOYS)}"
            v[5] = first
        if rng.random() < 0.05:  # goes by another surname (achternaam), e.g. a double name
            used_prefix, used = rng.choice(FAMILY)
            v[2] = f"{family}-{used}" if rng.random() < 0.5 else used
            if used_prefix and v[2] == used:
                v[1] = used_prefix
        city, pc = rng.choice(CITIES)
        if rng.random() < 0.04:  # born abroad, came to the Netherlands later (23, 26, 27; asylum seeker 28)
            abroad = rng.choice([c for c, _ in BIRTH_COUNTRIES if c != "6030"])
            v.update({23: abroad, 26: abroad, 27: self.birth + dt.timedelta(days=rng.randrange(1, max(2, min(self.age, 3000)))),
                      28: rng.random() < 0.4})
        else:
            v.update({22: city, 23: "6030"} if rng.random() < 0.5 else {})
        if rng.random() < 0.9:
            v[24] = "0001" if 23 not in v or v[23] == "6030" or rng.random() < 0.5 else Repeated(["0001", "0027"])
        address = Group(groep="G001", values={
            8: "01", 11: rng.choice(STREETS), 12: rng.randrange(1, 240), 10: city, 630: "6030",
            16: f"{pc}{rng.randrange(10, 99)} {rng.choice('ABCDEGHJKLMNPRSTVWXZ')}{rng.choice('ABCDEGHJKLMNPRSTVWXZ')}"})
        if rng.random() < 0.15:  # huisletter and/or huisnummertoevoeging
            address.values.update({13: rng.choice("ABC")} if rng.random() < 0.6 else {14: rng.choice(["1", "2", "bis", "hs"])})
        if rng.random() < 0.03:  # a houseboat or caravan: "bij" (by) or "tegenover" (to) the house number
            address.values[15] = rng.choice(["1", "2"])
        if rng.random() < 0.1:  # since when the family lives there (G096)
            address.groups.append(Group(groep="G096", values={1453: self.birth + dt.timedelta(days=rng.randrange(0, max(1, self.age)))}))
        f.groups.append(address)
        f.groups.append(Group(groep="G002", values={609: f"06{rng.randrange(10_000_000, 99_999_999)}", 610: "03"}))
        if rng.random() < 0.4:
            v[698] = f"{first.lower()}.{family.lower().replace(' ', '')}@example.nl"
        f.groups += self.parents(family, prefix)
        self.family(f, family, prefix)
        for (ura, agb, name), start, end in self.organisations:
            period = Group(groep="G098", values={1457: start} | ({1458: end} if end else {}))
            f.groups.append(Group(groep="G085", values={603: ura, 1529: agb, 1506: name}, groups=[period]))
        f.groups += self.consents(" ".join(p for p in (prefix, family) if p))
        self.involved(f, city)
        v[476] = rng.random() < 0.9  # told how the JGZ works
        if rng.random() < 0.03:  # the parents asked for a copy of the dossier (G088)
            f.groups.append(Group(groep="G088", values={1401: "02", 1402: self.birth + dt.timedelta(
                days=min(self.age, rng.randrange(60, 2000))), 1403: "Afschrift op verzoek van de ouders"}))
        if rng.random() < 0.2:  # the integral dossier of an earlier organisation, attached (G072)
            f.groups.append(Group(groep="G072", values={
                1169: "01", 1497: "IntegraalDossier.pdf", 1498: "application/pdf", 1185: _pdf(f"Integraal dossier JGZ {family}"),
                1172: self.birth + dt.timedelta(days=min(self.age, rng.randrange(30, 700))), 1171: rng.choice(PROFESSIONALS["01"])}))
        if self.birth.year < 2010:
            v[1167] = rng.random() < 0.6  # a paper dossier from before the digital one
        extra = random.Random(f"summary:{self.index}")  # own stream, as involved()
        if self.age > 4 * 365 and extra.random() < 0.2:
            v[492] = "Samenvatting 0-4: groei en ontwikkeling volgens verwachting."
        if extra.random() < 0.1:  # a doctor allowed the nurse to vaccinate (469)
            v.update({469: True, 1383: self.birth + dt.timedelta(days=min(self.age, 28)), 1505: extra.choice(PROFESSIONALS["01"]),
                      1385: f"9{self.index % 100000000:08d}"})
        f.groups.append(Group(groep="G093", values={1197: self.care, 1330: self.birth + dt.timedelta(days=3)}))
        f.groups.append(Group(groep="G092", values={487: "01", 488: self.today}))
        self.birth_data(f)
        self.care_elsewhere(f)
        record = Record(key=self.key, facts=f, activities=self.activities())
        self.heel_prick(record.activities)
        for _ in range(rng.choice([0, 0, 1, 1, 2])):  # dossier-level free text
            rubriek, question, answers = rng.choice(NOTES)
            f.groups.append(Group(groep="G083", values={1335: rubriek, 1332: question, 1333: rng.choice(answers)}))
        return record

    def parents(self, family: str, prefix: str) -> list[Group]:
        rng = self.rng
        out = []
        roles = ["02", "01"] if rng.random() < 0.88 else (["02"] if rng.random() < 0.7 else ["01"])
        if rng.random() < 0.05:
            roles.append(rng.choice(["03", "04"]))
        if rng.random() < 0.01:
            roles = [rng.choice(["07", "08"])]
        for i, role in enumerate(roles):
            female = role in ("02", "04", "06", "08")
            g = Group(groep="G014", values={62: role, 61: rng.choice(ADULT_F if female else ADULT_M)})
            own_prefix, own_family = (prefix, family) if role == "01" or rng.random() < 0.3 else rng.choice(FAMILY)
            g.values[657] = own_family
            if own_prefix:
                g.values[656] = own_prefix
            g.values[63] = self.birth - dt.timedelta(days=rng.randrange(19 * 365, 43 * 365))
            if rng.random() < 0.6:
                g.values[655] = bsn(len(_test_bsns()) - 1 - (2 * self.index + i))
            country = rng.choices([c for c, _ in BIRTH_COUNTRIES], [w for _, w in BIRTH_COUNTRIES])[0]
            g.values[71] = country
            if rng.random() < 0.8:
                g.values[66] = rng.choice(["02", "03", "04", "05", "06", "06", "07", "08", "08", "09", "98", "00"])
            if rng.random() < 0.8:
                g.values[67] = "01" if rng.random() < 0.8 else "02"
            if rng.random() < 0.08:  # living elsewhere (G016)
                city, pc = rng.choice(CITIES)
                g.groups.append(Group(groep="G016", values={658: "01", 661: rng.choice(STREETS), 662: rng.randrange(1, 240),
                                                            666: f"{pc}{rng.randrange(10, 99)} AB", 660: city, 669: "6030"}))
            if rng.random() < 0.5:  # the parent's mobile number (G017) and e-mail (738)
                g.groups.append(Group(groep="G017", values={736: f"06{rng.randrange(10_000_000, 99_999_999)}", 737: "03"}))
            if rng.random() < 0.3:
                g.values[738] = f"ouder{2 * self.index + i}@example.nl"
            out.append(g)
        return out

    def birth_data(self, f: Facts) -> None:
        """R014 pregnancy, R015 delivery and R016 the newborn, as the maternity care handed them
        over (most children; not those born abroad). Birth weight, length and head circumference
        follow the child's growth z-scores and the duration of the pregnancy; preterm babies
        stay on the children's ward (G109), the smallest in an incubator."""
        rng = random.Random(f"birth:{self.index}")  # own stream, as the summary's
        v = f.values
        if rng.random() > 0.85 or v.get(26):
            return
        preterm = rng.random() < 0.07
        days = rng.randrange(175, 259) if preterm else max(259, min(296, round(rng.gauss(280, 8))))
        weeks = (days - 280) / 7
        weight = max(600, round(3450 * 2.718281828 ** (0.095 * weeks) + 430 * self.z_weight))
        v.update({82: Decimal(days), 110: Decimal(weight), 112: Decimal(max(300, round(500 + 11 * weeks + 22 * self.z_length))),
                  113: Decimal(max(220, round(348 + 8 * weeks + 13 * self.z_head))), 115: weight < 2900 + 60 * weeks})
        v[111] = Decimal(round(weight * (1 - rng.uniform(0.02, 0.09))))
        apgar = rng.choices([10, 9, 8, 7, 6, 4], [10, 40, 25, 12, 8, 5])[0]
        v.update({129: str(apgar), 130: str(min(10, apgar + rng.choice([0, 1, 1, 2])))})
        gravidity = rng.choices([1, 2, 3, 4], [45, 35, 14, 6])[0]
        v.update({740: gravidity, 741: max(1, gravidity - rng.choice([0, 0, 0, 1]))})
        for number in (91, 92, 93):  # smoking, alcohol, drugs: "1 Ja, 2 Nee" (the DOB has no room for 3 Onbekend)
            v[number] = rng.choices(["2", "1"], [92, 8])[0]
        if v[93] == "1":
            v[745] = rng.choice(["01", "01", "02", "04"])
        if rng.random() < 0.1:
            v[88] = rng.choice(["01", "03", "06", "07", "09"])
        v.update({1579: False, 1581: rng.random() < 0.7})
        v.update({97: Decimal(rng.randrange(90, 900)), 98: Decimal(rng.randrange(5, 90)), 105: rng.random() > 0.005,
                  1323: rng.random() < 0.04})
        v[100] = "07" if rng.random() < 0.03 else rng.choice(["01", "01", "01", "02"])
        v[103] = rng.choices(["01", "02", "03"], [85, 12, 3])[0]
        v[1324] = rng.choices(["spontaan", "vacuümextractie", "keizersnede"], [75, 10, 15])[0]
        v[747] = rng.choice(["01", "01", "02", "03"])
        v[1340] = v[747] if rng.random() < 0.8 else rng.choice(["01", "02", "03"])
        v.update({137: "1", 138: "2", 629: "2"})
        if rng.random() < 0.015:  # a twin (109, which one, cannot be sent: see perinatal.MULTIPLE_NUMBER)
            v[108] = "ja, tweeling"
        if rng.random() < 0.1:  # jaundice: its cause and therapy
            v[140] = rng.choice(["01", "01", "02", "03"])
            if rng.random() < 0.4:
                v[142] = "01"
        if preterm or rng.random() < 0.03:  # on the children's ward, the smallest in an incubator
            stay = {1479: self.birth, 1480: self.birth + dt.timedelta(days=rng.randrange(3, 60 if preterm else 10))}
            f.groups.append(Group(groep="G109", values={n: d for n, d in stay.items() if d <= self.today}))
            v[144] = "1" if days < 245 else "2"

    def heel_prick(self, activities: list[Facts]) -> None:
        """R037: the heel prick of the first week, recorded at the first contact of the first
        two weeks (the home visit or the hearing screening); a few parents decline it."""
        rng = random.Random(f"heelprick:{self.index}")  # own stream, as the summary's
        first = next((a for a in activities if (a.values[724] - self.birth).days <= 14), None)
        if first is None or rng.random() < 0.1:
            return
        if rng.random() < 0.02:
            first.values.update({368: False, 373: "01", 380: rng.choice(["03", "02", "04"])})
            return
        when = min(self.today, self.birth + dt.timedelta(days=rng.randrange(3, 8)))
        first.values.update({368: True, 373: "01", 374: when, 381: rng.choices(["1", "2", "3"], [96, 3, 1])[0],
                             1411: rng.choice(PROFESSIONALS["01"]), 370: "Screeningsorganisatie RIVM-DVP"})

    def care_elsewhere(self, f: Facts) -> None:
        """R035 G041, care the child receives elsewhere (speech therapy, youth care...), and
        R048 G081, a care plan the JGZ made: for a few children, each with its period."""
        rng = random.Random(f"care:{self.index}")  # own stream, as the summary's
        if self.age < 90:
            return
        for _ in range(rng.choices([0, 1, 2], [88, 9, 3])[0]):
            start = self.birth + dt.timedelta(days=rng.randrange(60, self.age))
            closed = rng.random() < 0.5 and start + dt.timedelta(days=60) < self.today
            g = Group(groep="G041", values={361: rng.choice(["01", "02", "05", "10", "13", "16"]),
                                             362: "01" if rng.random() < 0.85 else rng.choice(["02", "03"]), 1201: "1" if closed else "2"})
            period = {1467: start} | ({1468: start + dt.timedelta(days=rng.randrange(30, max(31, (self.today - start).days)))}
                                      if closed else {})
            g.groups.append(Group(groep="G103", values=period))
            if rng.random() < 0.5:
                g.values[363] = rng.choice(["wekelijks", "eens per maand", "via de huisarts"])
            if rng.random() < 0.4:
                g.values.update({365: rng.choice(["spraak-taalachterstand", "gedrag", "motoriek"]),
                                 829: rng.choice(["verstaanbaar praten", "rust in het gezin", "zelfstandig bewegen"])})
            f.groups.append(g)
        if rng.random() < 0.04:
            start = self.birth + dt.timedelta(days=rng.randrange(60, self.age))
            g = Group(groep="G081", values={1151: rng.choice(["slaapt slecht", "huilt veel", "groeit te langzaam"]),
                                             1154: "binnen drie maanden verbeterd"})
            if rng.random() < 0.6:
                g.values.update({1152: "onrust in de avond", 1153: "moeite met inslapen", 1155: "extra contactmomenten"})
            if rng.random() < 0.4:
                g.values[1156] = "gaat beter"
            g.groups.append(Group(groep="G110", values={1481: start}))
            f.groups.append(g)

    def family(self, f: Facts, family: str, prefix: str) -> None:
        """R011 beyond the parents: the household (G077) the child and parents live in, brothers
        and sisters (G018), a teenager's own child (G078), who has custody (631), a parent's
        spoken language (1191) and remarks; and low literacy (707). Own random stream, as
        :meth:`involved`."""
        rng = random.Random(f"family:{self.index}:{self.birth}")
        home = f"W{self.index:05d}"
        if rng.random() < 0.6:
            f.groups.append(Group(groep="G077", values={1352: home, 607: "01" if rng.random() < 0.97 else "02"}))
            if rng.random() < 0.1:
                f.groups[-1].values[1190] = rng.choice(["woont met grootouders", "co-ouderschap, week om week"])
            for parent in f.groups_of("G014"):
                parent.values[1364] = home
        parents = f.groups_of("G014")
        if parents and rng.random() < 0.5:
            f.values[631] = "06" if len(parents) > 1 else rng.choice(["01", "02"])
        for parent in parents:
            if rng.random() < 0.15:
                parent.values[1191] = rng.choice(["nld", "nld", "ara", "tur", "pol", "eng"])
            if rng.random() < 0.05:
                parent.values[1367] = rng.choice(["werkt in ploegendienst", "mantelzorger voor eigen ouder"])
            if parent.values.get(67) == "01" and rng.random() < 0.2:
                parent.values[68] = rng.choice(OCCUPATIONS)
            if parent.values.get(64):
                parent.values[1322] = "ongeval"
            if rng.random() < 0.03:
                parent.values[72] = min(self.today, parent.values[63] + dt.timedelta(days=rng.randrange(6000, 9000)))
        for _ in range(rng.choice([0, 0, 1, 1, 1, 2, 2, 3])):
            sex = rng.choice(["1", "2"])
            born = self.birth + dt.timedelta(days=rng.randrange(-3650, 3650))
            if born >= self.today:
                continue
            sib = Group(groep="G018", values={74: "01" if rng.random() < 0.85 else rng.choice(["02", "03"]),
                                              73: rng.choice(GIRLS if sex == "2" else BOYS), 672: family, 75: sex, 76: born})
            if prefix:
                sib.values[671] = prefix
            if home and f.groups_of("G077"):
                sib.values[1365] = home
            if rng.random() < 0.05:
                sib.values[78] = rng.choice(["astma", "bekend met dyslexie"])
            f.groups.append(sib)
        if self.age >= 15 * 365 and rng.random() < 0.08:
            sex = rng.choice(["1", "2"])
            f.groups.append(Group(groep="G078", values={
                1368: rng.choice(GIRLS if sex == "2" else BOYS), 1370: family, 1371: sex,
                1372: self.birth + dt.timedelta(days=rng.randrange(15 * 365, self.age)), 1374: "jonge ouder"}))
        if rng.random() < 0.03:
            f.values[707] = "2"

    def involved(self, f: Facts, city: str) -> None:
        """The huisarts (R006), other care providers (R007), childcare and school (R008) and a
        contact person of the child (G004). Drawn from their own random stream, so adding
        them left every other synthetic value as it was."""
        rng = random.Random(f"involved:{self.index}:{self.birth}")
        years = self.age / 365
        since = self.birth + dt.timedelta(days=rng.randrange(0, max(1, min(self.age, 400))))
        if rng.random() < 0.85:
            n = self.index % 90 + 10
            gp = Group(groep="G086", values={31: f"Huisartsenpraktijk {city} {rng.choice(STREETS)}",
                                             709: f"900001{n}", 604: f"90000{n}{n % 10}{n % 7}"[:9]})
            if rng.random() < 0.3:
                gp.values[1510] = f"0{n}000{n}"[:8]
            if rng.random() < 0.4:
                gp.groups.append(Group(groep="G100", values={1461: since}))
            f.groups.append(gp)
        if rng.random() < 0.08:  # speech therapy, physiotherapy...
            name, function = rng.choice(CARE_PROVIDERS)
            other = Group(groep="G082", values={42: f"{name} {city}", 1512: f"0{rng.randrange(1000000, 9999999)}"},
                          groups=[Group(groep="G101", values={1463: since})])
            if rng.random() < 0.7:
                other.groups.append(Group(groep="G005", values={710: rng.choice(PROFESSIONALS["02"]), 711: function,
                                                                712: f"0{rng.randrange(100_000_000, 999_999_999)}"}))
            f.groups.append(other)
        if years >= 1:  # childcare or a playgroup (714; G006 with the VVE answers 1417, 1493)
            f.values[714] = rng.random() < 0.7
            if f.values[714]:
                kind = rng.choice(["01", "01", "02", "03", "05", "05", "08"])
                care = Group(groep="G006", values={56: kind, 715: f"{rng.choice(CHILDCARE)} {city}"},
                             groups=[Group(groep="G104", values={1469: self.birth + dt.timedelta(days=365)})])
                if kind in ("05", "08"):
                    care.values[1417] = rng.random() < 0.4
                    if not care.values[1417] and rng.random() < 0.5:
                        care.values[1493] = rng.choice(["01", "02", "03", "04", "05"])
                if rng.random() < 0.3:
                    care.groups.append(Group(groep="G007", values={1186: rng.choice(ADULT_F), 1187: "pedagogisch medewerker"}))
                f.groups.append(care)
            elif rng.random() < 0.5:
                f.values[716] = rng.choice(["01", "02", "03", "04", "05"])
        if years >= 4:  # the school (G008): primary, then secondary from 12
            kind = "01" if years < 12 else rng.choice(["05", "06", "10", "11", "18"])
            school = Group(groep="G008", values={58: kind, 1532: f"{rng.choice(SCHOOLS)} {city}",
                                                 605: f"{rng.randrange(10, 99)}{rng.choice('ABCDEFGH')}{rng.choice('ABCDEFGH')}"},
                           groups=[Group(groep="G106", values={1473: self.birth + dt.timedelta(days=round(4 * 365.25 if kind == '01' else 12 * 365.25))})])
            if kind == "01":
                group = min(8, max(1, int(years) - 3))
                school.values.update({717: group, 1183: f"Groep {group}{rng.choice('abc')}"})
            if rng.random() < 0.2:
                school.groups.append(Group(groep="G009", values={719: rng.choice(PROFESSIONALS["02"]), 720: "intern begeleider",
                                                                 722: f"ib{self.index}@school.example.nl"}))
            f.groups.append(school)
        if rng.random() < 0.3:  # the JGZ organisation responsible by the BRP (G091): where the child lives now
            (ura, agb, name), start, _ = self.organisations[-1]
            f.groups.append(Group(groep="G091", values={1441: ura, 1507: name},
                                  groups=[Group(groep="G099", values={1459: start})]))
        if rng.random() < 0.05:  # someone to call besides the parents (G004)
            f.groups.append(Group(groep="G004", values={704: f"{rng.choice(ADULT_F)} {rng.choice(FAMILY)[1]}",
                                                        1318: rng.choice(["grootmoeder", "buurvrouw", "gastouder"]),
                                                        705: f"06{rng.randrange(10_000_000, 99_999_999)}"}))

    def consents(self, family: str) -> list[Group]:
        rng = self.rng
        first = self.birth + dt.timedelta(days=min(self.age, rng.randrange(5, 30)))
        source = "01" if self.age > 16 * 365 and rng.random() < 0.5 else "02"
        if rng.random() < 0.05:
            source = "98"  # "Anders": an exception of the value set, written as nullFlavor OTH
        out = [Group(groep="G011", values={1163: rng.random() > 0.04, 1164: source, 1349: first})]
        if rng.random() < 0.15:
            out.append(Group(groep="G010", values={1395: rng.random() < 0.1, 1396: source, 1397: first}))
        if rng.random() < 0.6:
            out.append(Group(groep="G071", values={1398: rng.random() > 0.2, 1399: source, 1400: first}))
        if rng.random() < 0.12:
            out.append(Group(groep="G089", values={1404: True, 1405: source, 1406: first}))
        if rng.random() < 0.05:
            out.append(Group(groep="G012", values={1165: True, 1166: source, 1350: first,
                                                   1407: "Informatie aan huisarts over groei"}))
        if rng.random() < 0.5:  # consent to exchange vaccination data with the RVP (RIVM), asked at a vaccination
            when = self.birth + dt.timedelta(days=min(self.age, rng.randrange(40, 70)))
            own = self.age > 16 * 365 and rng.random() < 0.5
            ura, agb, org = self.organisation_on(when)
            rvp = {1533: rng.random() > 0.05, 1535: "01" if own else "03", 1536: when, 1541: rng.choice(["01", "02", "02", "03", "04"]),
                   1534: family if own else f"{rng.choice(GIRLS + BOYS)} {family}", 1537: rng.choice(PROFESSIONALS["01"]),
                   1538: ura, 1540: org}
            if rng.random() < 0.3:
                rvp[1539] = agb
            if rng.random() < 0.05:
                rvp[1607] = when + dt.timedelta(days=rng.randrange(30, 900))
            out.append(Group(groep="G115", values=rvp))
        return out

    # --- activities ---------------------------------------------------------------------

    def activities(self) -> list[Facts]:
        rng = self.rng
        planned = []
        for days, code, form, discipline, what in SCHEDULE:
            if days > self.age:
                break
            if self.care == "03" and not any(w.startswith("vacc") for w in what):
                continue
            if self.care == "02" and days > 30:
                break
            jitter = rng.randrange(-3, 4) if days < 60 else rng.randrange(-10, 21)
            date = self.birth + dt.timedelta(days=max(1, min(self.age, days + jitter)))
            planned.append((date, code, form, discipline, what))
        for _ in range(rng.choice([0, 0, 0, 1, 1, 2, 3])):  # contacts on indication
            if self.age < 20:
                break
            days = rng.randrange(10, self.age)
            reason = rng.choice(["09", "08", "12", "45", "43", "49", "36", "50", "39"])
            planned.append((self.birth + dt.timedelta(days=days), "22", rng.choice(["03", "09", "06", "01"]),
                            rng.choice(["01", "02"]), {f"reason:{reason}", "growth" if reason in ("08", "09") else ""}))
        planned.sort(key=lambda p: p[0])
        return [self.activity(*p) for p in planned]

    def activity(self, date: dt.date, code: str, form: str, discipline: str, what: set[str] | list[str]) -> Facts:
        rng = self.rng
        what = sorted(what)  # a fixed order of random draws: set order changes with PYTHONHASHSEED
        self.contact_seq += 1
        a = Facts(values={1377: f"{self.key}-{self.contact_seq:03d}", 494: code, 724: date, 1577: form,
                          1599: discipline, 1501: rng.choice(PROFESSIONALS.get(discipline, PROFESSIONALS["02"]))})
        realised = rng.random() > 0.03 or code == "35"
        a.values[1605] = "01" if realised else rng.choice(["02", "03", "07"])
        for w in what:
            if w.startswith("reason:"):
                a.values[1424] = w.split(":")[1]
                # a contact on indication was asked for: mostly by the parents, else school or GP
                a.values[1423] = rng.choice(["02", "02", "02", "01", "04", "03", "07", Other("06", "wijkagent")])
        if not realised:
            return a
        if self.days(date) < 12 * 365 and form in ("03", "06", "07"):  # a child seen in person comes with someone
            a.values[731] = (Repeated(["01", "02"]) if rng.random() < 0.15 else  # 0..*: both parents
                             rng.choice(["01"] * 7 + ["02"] * 2 + ["08", "09", Other("98", "buurvrouw")]))
        days = self.days(date)
        if days > 365 and rng.random() < 0.01:  # a worry: the Meldcode's consultation (R013: 1600, 1606)
            a.values.update({1600: rng.choice(["01", "02", "04"]), 1606: rng.choice(PROFESSIONALS["01"])})
        if "ngs" in what:
            self.hearing(a)
        if "weight" in what or "growth" in what:
            self.growth(a, days, full="growth" in what, head="head" in what)
        if "eyes" in what:
            a.values.update({1379: True, 390: "1", 391: "1"})
        if days < 4 * 365 and "growth" in what and rng.random() < 0.12:  # 163 (0..*): one finding or two
            found = rng.sample(SKIN_FINDINGS, 2 if rng.random() < 0.3 else 1)
            a.values[163] = found[0] if len(found) == 1 else Repeated(found)
        if "visus" in what:
            self.vision(a, days)
        if days >= 10 * 365 and "growth" in what and rng.random() < 0.1:  # R039 blood pressure (mm[Hg])
            a.values.update({1486: Decimal(rng.randrange(98, 128)), 1487: Decimal(rng.randrange(56, 82))})
        for w in what:
            if w.startswith("vw:"):
                self.van_wiechen(a, w[3:])
            elif w.startswith("vacc:"):
                self.vaccinate(a, w[5:], date)
        if rng.random() < 0.08:
            rubriek, question, answers = rng.choice(NOTES)
            a.groups.append(Group(groep="G083", values={1335: rubriek, 1332: question, 1333: rng.choice(answers)}))
        if rng.random() < 0.3:
            self.conclude(a)
        elif rng.random() < 0.03:
            a.values[493] = "Afspraak verzet op verzoek van ouders"  # a note without a conclusion
        return a

    def conclude(self, a: Facts) -> None:
        """R047: a conclusion, now and then with indications and their follow-up (a referral: G058)."""
        rng = self.rng
        a.values[482] = rng.choice(CONCLUSIONS)
        if rng.random() < 0.1:
            a.values[493] = "Ouders hebben vragen over slapen; volgend contact navragen"
        for _ in range(rng.choice([0, 0, 0, 1, 1, 2])):
            intervention = rng.choice(["8", "3", "4", "5", "6", "6"])
            g = Group(groep="G058", values={485: rng.choice(["33", "34", "35", "36", "37"]), 483: intervention})
            if intervention == "6":
                g.values[1159] = rng.choice(["01", "01", "03"])
                g.values[1494] = rng.random() < 0.7
            a.groups.append(g)

    def hearing(self, a: Facts) -> None:
        rng = self.rng
        a.values.update({438: True, 1331: "01" if rng.random() < 0.9 else "02"})
        right, left = ("1" if rng.random() > 0.03 else "2"), ("1" if rng.random() > 0.03 else "2")
        a.values.update({439: right, 441: left})
        if "2" in (right, left):
            a.values.update({442: "1" if rng.random() > 0.3 else "2", 444: "1" if rng.random() > 0.3 else "2"})
            if "2" in (a.values[442], a.values[444]):
                a.values.update({445: rng.choice("12"), 447: rng.choice("12")})
                a.values[863] = "Verwezen naar audiologisch centrum"

    def growth(self, a: Facts, days: int, full: bool, head: bool) -> None:
        rng = self.rng
        sex = self.curve_sex
        drift = rng.gauss(0, 0.08)
        weight = _curve(_WEIGHT[sex], days) * (1 + (self.z_weight + drift) * 0.11)
        a.values[245] = Decimal(int(round(weight / 10) * 10))
        a.values[246] = "2" if days < 730 else "1"
        if full:
            length = _curve(_LENGTH[sex], days) * (1 + (self.z_length + drift / 2) * 0.038)
            a.values[235] = Decimal(int(round(length)))
            a.values[236] = "1" if days < 730 else "2"
            a.values[1616] = "01"
            a.values[1614] = "01" if abs(self.z_length) < 2 else ("02" if self.z_length < 0 else "03")
        if head and days <= 730:
            a.values[252] = Decimal(int(round(_curve(_HEAD[sex], days) * (1 + self.z_head * 0.03))))

    def vision(self, a: Facts, days: int) -> None:
        rng = self.rng
        good = rng.random() > 0.07
        right = "06" if good else rng.choice(["03", "04"])
        left = "06" if good or rng.random() < 0.5 else rng.choice(["03", "04"])
        a.values.update({1418: right, 1419: left, 408: "1" if good else rng.choice(["2", "3"])})

    def van_wiechen(self, a: Facts, column: str) -> None:
        rng = self.rng
        a.values[1531] = column
        a.values[877] = "01" if rng.random() < 0.9 else rng.choice(["02", "03"])
        for element in VAN_WIECHEN[column]:
            r = rng.random()
            a.values[element] = "1" if r < 0.93 else ("3" if element in _WITH_M and r < 0.96 else "2")
        if rng.random() < 0.1:
            a.values[1004] = "Kind was verlegen in het begin"

    def vaccinate(self, a: Facts, moment: str, date: dt.date) -> None:
        rng = self.rng
        if moment == "1":
            a.values[1584] = "01"
        org = self.organisation_on(date)
        for vaccine in _VACCINES[moment]:
            g = Group(groep="G076", values={461: vaccine, 1409: date, 608: "01" if rng.random() < 0.9 else "03"})
            refused = self.refuses < 0.04 or (self.refuses < 0.08 and vaccine in ("09", "04"))
            if refused:
                g.values[683] = "1" if self.refuses < 0.005 else "2"
            else:
                g.values.update({472: f"{rng.choice('ABCDEFGHKLMNPRSTX')}{rng.choice('ABCDEFGHKLMNPRSTX')}"
                                      f"{rng.randrange(100000, 999999)}", 686: "01", 1336: org[2],
                                 1410: rng.choice(PROFESSIONALS["03"])})
                if rng.random() < 0.2:  # where: the organisation's location (1452)
                    g.values[1452] = f"Consultatiebureau {rng.choice(CITIES)[0]}"
                if rng.random() < 0.03:
                    g.values[874] = rng.choice(REACTIONS)
                    if rng.random() < 0.5:  # the reaction's period (G111)
                        g.groups.append(Group(groep="G111", values={1483: date, 1484: date + dt.timedelta(days=rng.randrange(1, 4))}))
                    if rng.random() < 0.5:
                        g.values[875] = min(self.today, date + dt.timedelta(days=rng.randrange(1, 5)))
            a.groups.append(g)
        if moment in _OTHER_AT and rng.random() < 0.04:  # a vaccine outside W0422: "other" with its name
            name, reason = rng.choice(OTHER_VACCINES)
            a.groups.append(Group(groep="G076", values={461: Other("OTH", name), 1409: date, 686: reason, 608: "01",
                                                        1336: org[2], 1410: rng.choice(PROFESSIONALS["03"])}))


def generate(count: int, seed: int, today: dt.date, start: int = 0) -> Iterator[Record]:
    """``count`` synthetic dossiers (numbers ``start`` … ``start + count - 1``) as of ``today``."""
    for index in range(start, start + count):
        yield _Child(random.Random(f"{seed}:{index}"), index, today).record()
