"""A local WooCommerce-compatible shop for tests and the demo (a fixture, not a product part)."""
