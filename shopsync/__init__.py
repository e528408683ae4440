"""Generated gRPC API of shopsync (see protos/). Never edit the v1 stubs by hand."""
