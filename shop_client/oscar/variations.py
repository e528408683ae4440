"""django-oscar's form of a family of sizes: a *parent* product (title, description, categories; never bought,
no stock record) and its *child* products (each a card: its upc, stock record and attribute values).

The attributes (Rozmiar, Kolor) are Oscar product attributes of the product class shop.oscar_product_class,
made through `/admin/productattributes/` when missing (type text, code = the name in lower case). A child names
its parent by id and has no product class or categories of its own (Oscar's rules for a child).
"""

from __future__ import annotations

import re
from typing import Any, Sequence

from shop_client.errors import ShopNotFound, ShopRejected
from shop_client.interface import ITEM_GONE, ItemResult, ProductChange, ShopProduct


def attribute_code(name: str) -> str:
    """Oscar's attribute code for a name: "Rozmiar" -> "rozmiar" (letters, digits, _)."""
    return re.sub(r"\W+", "_", name.strip().lower()).strip("_") or "atrybut"


class OscarVariations:
    """The parent/child half of the Oscar adapter (mixed into OscarShop)."""

    _attribute_codes: set[str] | None = None

    def _ensure_attributes(self, names: Sequence[str]) -> None:
        wanted = {attribute_code(n): n for n in names}
        if self._attribute_codes is None or set(wanted) - self._attribute_codes:
            have: set[str] = set()
            for items, _ in self._list("/admin/productattributes/"):  # type: ignore[attr-defined]
                have |= {str(a.get("code")) for a in items}
            self._attribute_codes = have
        for code, name in wanted.items():
            if code not in self._attribute_codes:
                self._send("POST", "/admin/productattributes/", body={  # type: ignore[attr-defined]
                    "name": name, "code": code, "type": "text", "required": False,
                    "product_class": self.product_class})  # type: ignore[attr-defined]
                self._attribute_codes.add(code)

    def _child_body(self, parent_id: int, change: ProductChange) -> dict[str, Any]:
        """A child takes what a product of its own does (upc, description, status, stock record, image), is made
        as its parent's child (no product class, no title of its own), and carries its attribute values."""
        body: dict[str, Any] = self._body(change)  # type: ignore[attr-defined]
        if change.shop_id is None:
            body.update({"structure": "child", "parent": parent_id, "product_class": None, "title": ""})
        if "attributes" in change.fields:
            body["attributes"] = [{"code": attribute_code(n), "value": v, "product_class": self.product_class}
                                  for n, v in change.fields["attributes"].items()]  # type: ignore[attr-defined]
        return body

    def upsert_variations(self, parent_id: int, changes: Sequence[ProductChange]) -> list[ItemResult]:
        names = {n for c in changes for n in (c.fields.get("attributes") or {})}
        if names:
            self._ensure_attributes(sorted(names))
        results = []
        for change in changes:
            try:
                body = self._child_body(parent_id, change)
                if change.shop_id is not None:
                    raw = self._put(change.shop_id, body)  # type: ignore[attr-defined]
                else:
                    raw = self._create_child(parent_id, change, body)
                results.append(ItemResult(key=change.sku, shop_id=int(raw["id"])))
            except ShopNotFound as exc:
                results.append(ItemResult.failed(change.sku, str(exc), ITEM_GONE))
            except ShopRejected as exc:
                results.append(ItemResult.failed(change.sku, str(exc)))
        return results

    def _create_child(self, parent_id: int, change: ProductChange, body: dict[str, Any]) -> dict[str, Any]:
        try:
            return self._send("POST", "/admin/products/", body=body)  # type: ignore[attr-defined, no-any-return]
        except ShopRejected as exc:
            if not {"upc", "slug"} & set(exc.code.split(",")):
                raise
        # The upc is in the shop: made before a crash (this parent's: update it), or the card's old place (another
        # parent's child, or a product of its own: removed, then made here).
        found = self.find_product_ids_by_sku([change.sku]).get(change.sku)  # type: ignore[attr-defined]
        if found is None:
            raise ShopRejected(f"product {change.sku}: the shop refused its upc and has no product with it")
        current = self._send("GET", f"/admin/products/{found}/")  # type: ignore[attr-defined]
        if current.get("structure") == "child" and int(current.get("parent") or 0) == int(parent_id):
            return self._put(found, body)  # type: ignore[attr-defined, no-any-return]
        self.remove_products([(0, found)])
        return self._send("POST", "/admin/products/", body=body)  # type: ignore[attr-defined, no-any-return]

    def iter_variations(self, parent_id: int) -> list[ShopProduct]:
        parent = self._send("GET", f"/admin/products/{int(parent_id)}/")  # type: ignore[attr-defined]
        out = []
        for url in parent.get("children") or ():
            child_id = int(str(url).rstrip("/").rsplit("/", 1)[-1])
            out.append(self.get_product(child_id))  # type: ignore[attr-defined]
        return out

    def remove_products(self, refs: Sequence[tuple[int, int]]) -> None:
        for _, shop_id in refs:
            try:
                self._send("DELETE", f"/admin/products/{int(shop_id)}/")  # type: ignore[attr-defined]
            except ShopNotFound:
                pass
            self._ids_by_upc = {k: v for k, v in self._ids_by_upc.items()  # type: ignore[attr-defined]
                                if v != int(shop_id)}
