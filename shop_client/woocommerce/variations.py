"""WooCommerce's variable products: a family of ERP cards as one product, each card one variation.

`/products/{id}/variations/batch` takes a family's variations in one call (create and update alike); a
variation's SKU is unique across the whole shop (products and variations), and `/products?sku=` finds a
variation too, with its `parent_id`. A variation hidden from buyers is `private` (WooCommerce shows only
`publish`ed variations and refuses to sell the others).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Sequence

from shop_client.errors import ShopNotFound
from shop_client.interface import VARIATION, ItemResult, ProductChange, ShopProduct
from shop_client.text import to_html
from shop_client.woocommerce.fields import money as _money, stock_fields

# What WooCommerce answers when a create names a SKU the shop has already (WC_Product::set_sku's exception).
SKU_TAKEN = ("product_invalid_sku", "woocommerce_rest_product_not_created")


class Variations:
    """The variations half of the WooCommerce adapter (mixed into WooCommerceShop)."""

    def _variation_body(self, change: ProductChange) -> dict[str, Any]:
        f = change.fields
        body: dict[str, Any] = {} if change.shop_id is None else {"id": change.shop_id}
        if change.shop_id is None or "sku" in f:
            body["sku"] = f.get("sku") or change.sku
        if "price" in f:
            body["regular_price"] = _money(f["price"])
        if "description" in f:
            body["description"] = to_html(f["description"] or "")
        if "published" in f:
            body["status"] = "publish" if f["published"] else "private"
        if "stock" in f:
            body.update(stock_fields(f["stock"]))
        if "attributes" in f:
            body["attributes"] = [{"name": to_html(name), "option": option} for name, option in f["attributes"].items()]
        if f.get("image"):
            entry = self._image_entry(f["image"], change.sku)  # type: ignore[attr-defined]
            body["image"] = {k: v for k, v in entry.items() if k in ("id", "src")}
        meta = []
        if "ean" in f:
            meta.append({"key": "_shopsync_ean", "value": f["ean"]})
        if "price_lists" in f:
            meta.append({"key": self.price_list_meta_key,  # type: ignore[attr-defined]
                         "value": {k: _money(v) for k, v in f["price_lists"].items()}})
        if meta:
            body["meta_data"] = meta
        return body

    def upsert_variations(self, parent_id: int, changes: Sequence[ProductChange]) -> list[ItemResult]:
        if not changes:
            return []
        path = f"/products/{int(parent_id)}/variations/batch"
        items = [("create" if c.shop_id is None else "update", c.sku, self._variation_body(c)) for c in changes]
        answers = self._batch(path, items)  # type: ignore[attr-defined]
        results: list[ItemResult] = []
        taken: list[int] = []
        for i, (change, answer) in enumerate(zip(changes, answers)):
            err = answer.get("error")
            if err and change.shop_id is None and err.get("code") in SKU_TAKEN:
                taken.append(i)
            results.append(self._variation_item(change.sku, answer))
        if taken:
            # The SKU is in the shop already: made before a crash (update it), or the card's old variation of
            # another family or its old product of its own (remove that one, then make it here).
            refs = self.find_product_refs_by_sku([changes[i].sku for i in taken])
            again: list[tuple[int, ProductChange]] = []
            moved: list[tuple[int, int]] = []
            for i in taken:
                ref = refs.get(changes[i].sku)
                if ref is None:
                    results[i] = ItemResult.failed(changes[i].sku, "shop refused the SKU as invalid or duplicated")
                    continue
                shop_id, parent = ref
                if parent == int(parent_id):
                    again.append((i, ProductChange(changes[i].sku, changes[i].fields, shop_id)))
                else:
                    moved.append((parent, shop_id))
                    again.append((i, changes[i]))
            if moved:
                self.remove_products(moved)
            answers = self._batch(path, [("create" if c.shop_id is None else "update", c.sku,  # type: ignore
                                          self._variation_body(c)) for _, c in again])
            for (i, c), answer in zip(again, answers):
                results[i] = self._variation_item(c.sku, answer)
        return results

    def _variation_item(self, key: str, answer: dict[str, Any]) -> ItemResult:
        res: ItemResult = self._item(key, {k: v for k, v in answer.items() if k != "images"})  # type: ignore
        image = answer.get("image") if isinstance(answer.get("image"), dict) else None
        if res.ok and image and image.get("src"):
            return replace(res, image_src=str(image["src"]),
                           image_media_id=int(image["id"]) if image.get("id") else None)
        return res

    def find_product_refs_by_sku(self, skus: Sequence[str]) -> dict[str, tuple[int, int]]:
        """SKU -> (shop id, its variable product's id or 0) for the SKUs the shop has, variations included."""
        out: dict[str, tuple[int, int]] = {}
        for sku in skus:
            for p in self._send("GET", "/products", params={  # type: ignore[attr-defined]
                    "sku": sku, "per_page": 1, "_fields": "id,sku,parent_id"}).json():
                if p.get("sku") == sku:
                    out[sku] = (int(p["id"]), int(p.get("parent_id") or 0))
        return out

    def iter_variations(self, parent_id: int) -> list[ShopProduct]:
        out: list[ShopProduct] = []
        for items, *_ in self._pages(f"/products/{int(parent_id)}/variations",  # type: ignore[attr-defined]
                                     {"orderby": "id", "order": "asc", "context": "edit"}, 100):
            for raw in items:
                out.append(self._product({**raw, "type": VARIATION, "parent_id": int(parent_id),  # type: ignore
                                          "categories": [], "name": raw.get("name") or raw.get("sku") or "",
                                          "images": [raw["image"]] if isinstance(raw.get("image"), dict) else []}))
        return out

    def remove_products(self, refs: Sequence[tuple[int, int]]) -> None:
        for parent, shop_id in refs:
            path = f"/products/{int(parent)}/variations/{int(shop_id)}" if parent else f"/products/{int(shop_id)}"
            try:
                self._send("DELETE", path, params={"force": "true"})  # type: ignore[attr-defined]
            except ShopNotFound:
                pass  # gone already
