"""The hook program that Symfonia's automation runs: `erp-hook EVENT ID`.

It imports only grpc and the generated API stubs, so it starts fast.
"""
