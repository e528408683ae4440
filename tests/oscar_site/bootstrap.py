"""Prepare the test site after `migrate`: the API user, a partner, a product class, Poland.

    python bootstrap.py USERNAME PASSWORD      (with DJANGO_SETTINGS_MODULE=settings)
"""

import sys

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.sites.models import Site  # noqa: E402
from oscar.core.loading import get_model  # noqa: E402

Partner = get_model("partner", "Partner")
ProductClass = get_model("catalogue", "ProductClass")
Country = get_model("address", "Country")


def main(username: str, password: str) -> None:
    User = get_user_model()
    user, _ = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.pl"})
    user.is_staff = user.is_superuser = True
    user.set_password(password)
    user.save()
    Partner.objects.get_or_create(code="sklep", defaults={"name": "Sklep"})
    ProductClass.objects.get_or_create(slug="towar", defaults={"name": "Towar", "requires_shipping": True,
                                                               "track_stock": True})
    Country.objects.update_or_create(iso_3166_1_a2="PL", defaults={
        "iso_3166_1_a3": "POL", "iso_3166_1_numeric": "616", "printable_name": "Polska",
        "name": "Rzeczpospolita Polska", "is_shipping_country": True})
    Site.objects.update_or_create(id=1, defaults={"domain": "127.0.0.1", "name": "shopsync test"})


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
