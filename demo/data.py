"""Believable Polish demo data, generated the same way every time (seeded).

Both demo pieces use it: the demo ERP company and the local shop, so that the
shop's customers carry NIPs of real ERP contractors, written in other forms.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from shopsync.server.nip import check_digit

GROUPS: dict[str, list[str]] = {
    "Narzędzia": ["Wiertarki", "Szlifierki", "Wkrętarki", "Klucze"],
    "Elektryka": ["Kable", "Gniazda", "Oświetlenie"],
    "Ogród": ["Kosiarki", "Nawadnianie", "Donice"],
    "Chemia budowlana": ["Kleje", "Farby", "Silikony"],
}
_NOUNS = {
    "Wiertarki": ["Wiertarka udarowa", "Wiertarka stołowa", "Wiertło do betonu", "Wiertło do metalu"],
    "Szlifierki": ["Szlifierka kątowa", "Szlifierka oscylacyjna", "Tarcza szlifierska"],
    "Wkrętarki": ["Wkrętarka akumulatorowa", "Zestaw bitów", "Wkrętak udarowy"],
    "Klucze": ["Klucz płasko-oczkowy", "Klucz nasadowy", "Klucz dynamometryczny"],
    "Kable": ["Przewód YDY", "Przedłużacz bębnowy", "Kabel OWY"],
    "Gniazda": ["Gniazdo podwójne", "Listwa zasilająca", "Gniazdo natynkowe"],
    "Oświetlenie": ["Żarówka LED", "Naświetlacz LED", "Lampa warsztatowa"],
    "Kosiarki": ["Kosiarka spalinowa", "Kosiarka elektryczna", "Podkaszarka żyłkowa"],
    "Nawadnianie": ["Wąż ogrodowy", "Zraszacz wahadłowy", "Pistolet zraszający"],
    "Donice": ["Donica ceramiczna", "Skrzynka balkonowa", "Osłonka na doniczkę"],
    "Kleje": ["Klej montażowy", "Klej do płytek", "Klej uniwersalny"],
    "Farby": ["Farba lateksowa", "Emalia akrylowa", "Grunt głęboko penetrujący"],
    "Silikony": ["Silikon sanitarny", "Akryl szpachlowy", "Pianka montażowa"],
}
_VARIANTS = ["500 W", "750 W", "1200 W", "Ø6", "Ø8", "Ø10", "10 m", "25 m", "1 l", "5 l", "żółty", "biały",
             "czarny", "zestaw 5 szt.", "PRO", "HOBBY"]
_BRANDS = ["Borsuk", "Sokół", "Dąb", "Żubr", "Łoś", "Orzeł"]
_CITIES = [("Warszawa", "00-950"), ("Kraków", "30-001"), ("Łódź", "90-001"), ("Wrocław", "50-001"),
           ("Poznań", "60-001"), ("Gdańsk", "80-001"), ("Szczecin", "70-001"), ("Lublin", "20-001")]
_STREETS = ["Marszałkowska", "Długa", "Kwiatowa", "Polna", "Leśna", "Słoneczna", "Ogrodowa", "Lipowa"]
_FIRMS = ["Budmax", "Elektro-Pol", "Zielony Ogród", "Majster", "Remontex", "Domar", "Instal-Bud", "Farbex",
          "Żuraw", "Świt", "Gród", "Pszczółka"]
_FORMS = ["sp. z o.o.", "s.c.", "S.A.", "sp. j."]
_FIRST = ["Anna", "Piotr", "Katarzyna", "Tomasz", "Małgorzata", "Paweł", "Agnieszka", "Michał"]
_LAST = ["Nowak", "Kowalski", "Wiśniewska", "Wójcik", "Kamińska", "Lewandowski", "Zielińska", "Szymański"]


@dataclass(frozen=True)
class DemoProduct:
    code: str
    name: str
    ean: str
    group: tuple[str, str]
    price: Decimal
    vat: int
    marked: bool
    note: str
    stock: tuple[int, int]  # warehouse 1, warehouse 2


@dataclass(frozen=True)
class DemoContractor:
    code: str
    name: str
    nip_typed: str  # as a person typed it in the ERP
    nip10: str
    street: str
    house: str
    postcode: str
    city: str
    email: str
    phone: str
    price_group: int | None


def ean13(rng: random.Random) -> str:
    digits = "590" + "".join(str(rng.randint(0, 9)) for _ in range(9))
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits))
    return digits + str((10 - total % 10) % 10)


def valid_nip(rng: random.Random) -> str:
    while True:
        first9 = str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(8))
        d = check_digit(first9)
        if d is not None:
            return first9 + str(d)


def typed_nip(nip10: str, style: int) -> str:
    """The same NIP the ways people type it."""
    dashed = f"{nip10[:3]}-{nip10[3:6]}-{nip10[6:8]}-{nip10[8:]}"
    return [nip10, f"PL {dashed}", dashed, f"{nip10[:3]} {nip10[3:6]} {nip10[6:8]} {nip10[8:]}",
            f"PL{nip10}"][style % 5]


def products(count: int = 300) -> list[DemoProduct]:
    rng = random.Random(20261128)
    out = []
    leaves = [(top, sub) for top, subs in GROUPS.items() for sub in subs]
    for i in range(1, count + 1):
        top, sub = leaves[(i - 1) % len(leaves)]
        noun = rng.choice(_NOUNS[sub])
        name = f"{noun} {rng.choice(_BRANDS)} {rng.choice(_VARIANTS)}"
        price = Decimal(rng.randint(499, 149999)) / 100
        note = (f"{noun} marki {name.split()[-2]}. Solidne wykonanie, gwarancja 24 miesiące. "
                f"Idealny wybór do domu i warsztatu.") if i % 5 else ""
        out.append(DemoProduct(code=f"{sub[:3].upper()}-{i:05d}", name=name, ean=ean13(rng), group=(top, sub),
                               price=price, vat=8 if top == "Ogród" and i % 4 == 0 else 23,
                               marked=i % 3 != 0, note=note,
                               stock=(rng.randint(0, 120), rng.randint(0, 60))))
    return out


def contractors(count: int = 40) -> list[DemoContractor]:
    rng = random.Random(1995)
    out = []
    fixed = "5260250995"
    for i in range(1, count + 1):
        city, postcode = rng.choice(_CITIES)
        nip10 = fixed if i == 1 else valid_nip(rng)
        if i == 2:
            nip10 = out[0].nip10  # two contractors with one NIP: never guessed between
        firm = f"{rng.choice(_FIRMS)} {rng.choice(_FORMS)}"
        out.append(DemoContractor(
            code=f"K{i:04d}", name=firm, nip_typed=typed_nip(nip10, i), nip10=nip10,
            street=rng.choice(_STREETS), house=str(rng.randint(1, 120)), postcode=postcode, city=city,
            email=f"biuro{i}@{firm.split()[0].lower().replace('-', '')}.example.pl",
            phone=f"+48 {rng.randint(500, 799)} {rng.randint(100, 999)} {rng.randint(100, 999)}",
            price_group=1 if i % 4 == 0 else None))
    return out


def person(i: int) -> tuple[str, str]:
    return _FIRST[i % len(_FIRST)], _LAST[(i * 3) % len(_LAST)]


# Services the demo company sells with shop orders (the demo's orders.shipping_code and fee_code).
SERVICES = (("TRANSPORT", "Transport - usługa kurierska"), ("OPLATA", "Opłata dodatkowa"))
