"""Why a message failed or waits, kept as a code with parameters and rendered in the reader's language.

A dead letter's reason is read by office staff in the console (Polish or English) and by IT in the logs
and the command line (English). So the sync's own verdicts are raised as codes (`Rejected.of(code,
**params)`), stored beside the English text (`queue_message.why`), and rendered per page. A text that
is not ours (the shop's or the ERP's own message) stays a parameter, shown as it came.

    Reason(code, params, about, side)
      about  what the message is about: ("order", "3") -> "order 3" / "zamówienie 3"
      side   "ERP" when the ERP refused it (shown as "ERP: ..."), "" otherwise
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

EN, PL = 0, 1

# code -> (English, Polish); {name} are parameters. Texts name their record themselves where the
# record is known at the raise; `about` adds it for the rest.
TEXTS: dict[str, tuple[str, str]] = {
    "text": ("{text}", "{text}"),
    "waiting": ("waiting: {inner}", "czeka: {inner}"),
    "internal": ("internal error: {kind}: {text}", "błąd wewnętrzny: {kind}: {text}"),
    # orders, as the sync reads them
    "order.no_lines": ("order {order}: has no lines", "zamówienie {order}: nie ma pozycji"),
    "order.bad_quantity": ("order {order} line {line} ({item}): quantity must be positive, got {quantity}",
                           "zamówienie {order} pozycja {line} ({item}): ilość musi być dodatnia, jest {quantity}"),
    "order.unknown_sku": ("order {order} line {line}: SKU '{sku}' is not in the ERP (create or import the product, "
                          "then retry this dead letter)",
                          "zamówienie {order} pozycja {line}: SKU '{sku}' nie ma w ERP (utwórz albo zaimportuj "
                          "towar, potem ponów ten błąd)"),
    "order.no_rate": ("order {order}: {text}", "zamówienie {order}: brak kursu waluty ({text})"),
    "order.tax_differs": ("order {order} line {line} ({item}): the shop charged {tax} tax on {total} ({shop_rate}%), "
                          "the ERP item has VAT {vat}%: correct the item's VAT rate in Symfonia or the tax class in "
                          "the shop, then retry this dead letter",
                          "zamówienie {order} pozycja {line} ({item}): sklep naliczył {tax} podatku od {total} "
                          "({shop_rate}%), towar w ERP ma VAT {vat}%: popraw stawkę VAT towaru w Symfonii albo "
                          "klasę podatkową w sklepie, potem ponów ten błąd"),
    "order.total_differs": ("order {order}: the ERP order would total {erp} {currency} gross, the customer pays "
                            "{shop}; differs by {diff} (lines priced {kind}; VAT rounded per line by the ERP): check "
                            "the shop's tax rounding settings, then correct and retry, or discard this dead letter "
                            "and enter the order by hand",
                            "zamówienie {order}: zamówienie ERP miałoby {erp} {currency} brutto, klient płaci "
                            "{shop}; różnica {diff} (ceny {kind}; VAT zaokrąglany przez ERP w każdej pozycji): "
                            "sprawdź ustawienia zaokrąglania podatku w sklepie, potem popraw i ponów, albo odrzuć "
                            "ten błąd i wprowadź zamówienie ręcznie"),
    "order.status_conflict": ("shop order {order} was {status} in the shop, but ERP order {erp_order} is already "
                              "{erp_state}{invoiced}: a person must correct it in Symfonia (a return or a "
                              "correction), then discard this",
                              "zamówienie sklepu {order} ma w sklepie stan {status}, a zamówienie ERP {erp_order} "
                              "jest już {erp_state}{invoiced}: trzeba je poprawić w Symfonii (zwrot albo korekta), "
                              "potem odrzucić ten błąd"),
    "order.unreadable": ("order {order}: the shop's order data cannot be read ({text})",
                         "zamówienie {order}: nie da się odczytać danych zamówienia ze sklepu ({text})"),
    "order.service_unset": ("order {order} has {what} '{name}' of {amount} {currency}: set {setting} to the "
                            "code of an ERP service (e.g. TRANSPORT) and restart the service; orders wait until "
                            "then",
                            "zamówienie {order} ma {what} '{name}' na {amount} {currency}: ustaw {setting} na kod "
                            "usługi w ERP (np. TRANSPORT) i uruchom usługę ponownie; do tego czasu zamówienia "
                            "czekają"),
    "order.service_missing": ("order {order} has {what} '{name}' of {amount} {currency}, but {setting} = '{code}' "
                              "is not a product in the ERP: create that service in Symfonia or fix the setting; "
                              "orders wait until then",
                              "zamówienie {order} ma {what} '{name}' na {amount} {currency}, ale {setting} = "
                              "'{code}' nie jest towarem w ERP: utwórz tę usługę w Symfonii albo popraw "
                              "ustawienie; do tego czasu zamówienia czekają"),
    # customers
    "customer.needs_person": ("customer {customer}: {detail} (`shopsync customers pair {customer} CONTRACTOR_ID`; "
                              "the order waits and is imported once paired)",
                              "klient {customer}: {detail} (powiąż go w konsoli, Klienci; zamówienie czeka i "
                              "wejdzie po powiązaniu)"),
    "customer.nip_ambiguous": ("NIP {nip} of order {order} matches several ERP contractors ({codes}); the order "
                               "waits for a person to pair the customer by hand (`shopsync customers pair`)",
                               "NIP {nip} zamówienia {order} pasuje do kilku kontrahentów ERP ({codes}); zamówienie "
                               "czeka, aż ktoś ręcznie powiąże klienta (konsola, Klienci)"),
    # the ERP's answers
    "erp.not_found": ("{what} {id} is not in the ERP", "{what} {id} nie ma w ERP"),
    "erp.refused": ("ERP refused the data ({state}): {text}", "ERP odrzucił dane ({state}): {text}"),
    "erp.webapi_refused": ("Symfonia WebAPI refused {method} {path}: {text}",
                           "Symfonia WebAPI odrzuciła {method} {path}: {text}"),
    "erp.webapi_not_found": ("Symfonia WebAPI {method} {path}: not found ({text})",
                             "Symfonia WebAPI {method} {path}: nie znaleziono ({text})"),
    "erp.order_product_gone": ("order {order} line {line}: product id {id} is not in the ERP",
                               "zamówienie {order} pozycja {line}: towaru o id {id} nie ma w ERP"),
    "erp.order_contractor_gone": ("order {order}: contractor id {id} is no longer in the ERP (deleted or merged?); "
                                  "pair the customer again, then retry this dead letter",
                                  "zamówienie {order}: kontrahenta o id {id} nie ma już w ERP (usunięty albo "
                                  "scalony?); powiąż klienta ponownie, potem ponów ten błąd"),
    # refunds
    "refund.no_document": ("order {order}: refund {refund} of {amount} {currency} came before any invoice or receipt: "
                           "change the ERP order (its lines and reservations) in Symfonia by hand, then discard "
                           "this; shopsync will not correct this refund later",
                           "zamówienie {order}: zwrot {refund} na {amount} {currency} przed fakturą lub paragonem: "
                           "zmień zamówienie w Symfonii (pozycje i rezerwacje) ręcznie, potem odrzuć ten błąd; "
                           "shopsync nie skoryguje już tego zwrotu"),
    "refund.by_value": ("order {order}: refund {refund} of {amount} {currency} gives back lines worth {worth}: a "
                        "correction by value must be made in Symfonia by hand, then discard this; shopsync will not "
                        "correct this refund later",
                        "zamówienie {order}: zwrot {refund} na {amount} {currency} oddaje pozycje warte {worth}: "
                        "korektę wartościową trzeba wystawić w Symfonii ręcznie, potem odrzuć ten błąd; shopsync nie "
                        "skoryguje już tego zwrotu"),
    # reconciliation
    "reconcile.removed_in_shop": ("product {sku} is sold online but was {how} in the shop: restore it in the shop, "
                                  "or take the marker off in the ERP (sync.removed_in_shop = \"recreate\" does it "
                                  "by itself)",
                                  "towar {sku} jest w sprzedaży online, ale w sklepie został {how}: przywróć go w "
                                  "sklepie albo zdejmij znacznik w ERP (sync.removed_in_shop = \"recreate\" zrobi "
                                  "to sam)"),
    # the shop's answers
    "shop.refused": ("the shop refused it ({status}): {text}", "sklep odmówił ({status}): {text}"),
    "shop.not_found": ("the shop no longer has it ({status}): {text}", "sklepu już tego nie ma ({status}): {text}"),
    "variant.shop_cannot": ("product {sku} belongs to a family of variants (products.variants_by) and this shop "
                            "has no variable products: use WooCommerce, or leave products.variants_by empty",
                            "towar {sku} należy do rodziny wariantów (products.variants_by), a ten sklep nie ma "
                            "produktów z wariantami: użyj WooCommerce albo zostaw products.variants_by puste"),
    "variant.no_attributes": ("product {sku} is in family {family} but has none of the features {attributes}: "
                              "give the card its size or colour in Symfonia (its features), then retry",
                              "towar {sku} jest w rodzinie {family}, ale nie ma żadnej z cech {attributes}: nadaj "
                              "kartotece w Symfonii rozmiar albo kolor (cechy), potem ponów"),
    "image.not_image": ("product {sku}: main image {url} is not a PNG/JPEG/GIF/WebP image (type {type})",
                        "towar {sku}: zdjęcie główne {url} nie jest obrazem PNG/JPEG/GIF/WebP (typ {type})"),
}

# what a message is about
SUBJECTS: dict[str, tuple[str, str]] = {
    "order": ("order {id}", "zamówienie {id}"),
    "shop_order": ("shop order {id}", "zamówienie sklepu {id}"),
    "product": ("product {id}", "towar {id}"),
    "product_image": ("product {id}: image", "towar {id}: zdjęcie"),
    "shop_product": ("shop product {id}", "towar sklepu {id}"),
    "price_lists": ("contractor {id} price lists", "cenniki kontrahenta {id}"),
    "customer": ("customer {id}", "klient {id}"),
}

# words inside parameters the sync itself chose (not the shop's or the ERP's text)
WORDS: dict[str, str] = {
    "product": "towar", "product id": "towar o id", "contractor id": "kontrahent o id",
    "order id": "zamówienie o id", "price list id": "cennik o id",
    "shipping": "wysyłkę", "a fee": "opłatę", "gross": "brutto", "net": "netto",
    "cancelled": "anulowane", "refunded": "zwrócone", "failed": "nieudane", "trash": "w koszu",
    "trashed": "przeniesiony do kosza", "deleted": "usunięty",
    "issued": "wydane", "partial": "częściowo zrealizowane", "realised": "zrealizowane", "new": "nowe",
    " and invoiced": " i zafakturowane",
}


# A customer pairing's detail (server/sync/customers.py writes these forms, in English, for the shop and
# the logs) in Polish, for the console.
PAIRING_DETAILS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(a + r"\Z"), b) for a, b in (
    (r"no NIP in the shop account; pair by hand or wait for the first order",
     "brak NIP w koncie sklepu; powiąż ręcznie albo poczekaj na pierwsze zamówienie"),
    (r"NIP (.*) is not a valid Polish NIP \(checksum\)", r"NIP \1 nie jest poprawnym polskim NIP-em (suma kontrolna)"),
    (r"no ERP contractor has NIP (\S+); pair by hand or wait for the first order",
     r"żaden kontrahent ERP nie ma NIP \1; powiąż ręcznie albo poczekaj na pierwsze zamówienie"),
    (r"NIP (\S+) matches several ERP contractors: (.*); a person must choose",
     r"NIP \1 pasuje do kilku kontrahentów ERP: \2; wybór należy do człowieka"),
    (r"NIP (\S+) = (.*)", r"NIP \1 = \2"),
    (r"paired by hand with (.*)", r"powiązany ręcznie z \1"),
    (r"unpaired by hand; pair by hand", "powiązanie rozwiązane ręcznie; powiąż ręcznie"),
    (r"created from order (.*)", r"utworzony z zamówienia \1"),
))


def pairing_detail(detail: str, lang: str) -> str:
    """A pairing's detail in `lang` (as stored when no form matches)."""
    if lang != "pl":
        return detail
    for pattern, polish in PAIRING_DETAILS:
        m = pattern.match(detail)
        if m:
            return m.expand(polish)
    return detail


def coded(error: BaseException, code: str, /, **params: Any) -> BaseException:
    """Give any error (e.g. the shop client's) a coded reason; its text stays as it was."""
    error.reason_code = code  # type: ignore[attr-defined]
    error.reason_params = params  # type: ignore[attr-defined]
    return error


class _Safe(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass(frozen=True)
class Reason:
    code: str
    params: Mapping[str, Any] = field(default_factory=dict)
    about: tuple[str, str] | None = None
    side: str = ""

    def text(self, lang: str = "en") -> str:
        i = PL if lang == "pl" else EN
        template = TEXTS.get(self.code, TEXTS["text"])[i]
        params = {k: self._param(k, v, lang) for k, v in self.params.items()}
        body = template.format_map(_Safe(params))
        if self.side:
            body = f"{self.side}: {body}"
        if self.about and self.about[0] in SUBJECTS:
            body = SUBJECTS[self.about[0]][i].format(id=self.about[1]) + ": " + body
        return body

    @staticmethod
    def _param(key: str, value: Any, lang: str) -> str:
        if isinstance(value, Reason):
            return value.text(lang)
        if key == "detail":
            return pairing_detail(str(value), lang)
        if lang == "pl" and isinstance(value, str) and key in ("what", "status", "erp_state", "kind", "how"):
            return WORDS.get(value, value)
        return str(value)

    def to_json(self) -> dict[str, Any]:
        params = {k: (v.to_json() if isinstance(v, Reason) else v) for k, v in self.params.items()}
        out: dict[str, Any] = {"code": self.code, "params": params}
        if self.about:
            out["about"] = list(self.about)
        if self.side:
            out["side"] = self.side
        return out

    def dumps(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False, default=str)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Reason":
        params = {k: (cls.from_json(v) if isinstance(v, dict) and "code" in v else v)
                  for k, v in dict(data.get("params") or {}).items()}
        about = data.get("about")
        return cls(str(data.get("code") or "text"), params,
                   (str(about[0]), str(about[1])) if about else None, str(data.get("side") or ""))

    @classmethod
    def loads(cls, text: str | None) -> "Reason | None":
        if not text:
            return None
        try:
            data = json.loads(text)
        except ValueError:
            return None
        return cls.from_json(data) if isinstance(data, dict) else None


class Coded:
    """An exception that carries its reason as a code: `raise Rejected.of("order.no_lines", order=n)`."""

    reason_code: str = ""
    reason_params: Mapping[str, Any] = {}

    @classmethod
    def of(cls, code: str, /, **params: Any):
        exc = cls(Reason(code, params).text("en"))
        exc.reason_code = code
        exc.reason_params = params
        return exc


def reason_of(error: BaseException, *, about: tuple[str, str] | None = None, side: str = "") -> Reason:
    """The coded reason of an error: its own code, or its text as it is."""
    code = getattr(error, "reason_code", "")
    if code:
        return Reason(code, dict(getattr(error, "reason_params", {}) or {}), about, side)
    return Reason("text", {"text": str(error)}, about, side)


def render(stored: str | None, text: str, lang: str) -> str:
    """A stored reason in `lang`; the plain text when none was stored (older rows, uncoded errors)."""
    reason = Reason.loads(stored)
    return reason.text(lang) if reason is not None else text
