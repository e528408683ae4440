"""The django-oscar adapter (admin API of django-oscar-api)."""

from shop_client.oscar.adapter import OscarShop  # noqa: F401
