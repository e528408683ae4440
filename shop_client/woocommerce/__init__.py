"""The WooCommerce REST API v3 adapter."""

from shop_client.woocommerce.adapter import WooCommerceShop  # noqa: F401
