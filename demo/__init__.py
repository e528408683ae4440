"""The demo: a demo Symfonia company and its simulator, the commands that run the demo.

Not part of the product: no module of server/, shop_client/ or erp_hooks/ imports it.
The `shopsync` command finds these commands through the `shopsync.commands` entry point.
"""
