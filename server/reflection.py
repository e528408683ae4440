"""Server reflection that serves the API's own words.

grpcio-reflection answers from a descriptor pool, which keeps no comments, and
cannot find the file of a method name. For our protos this answers from the
descriptor set `make protos` writes with source info (shopsync/v1/descriptors.binpb),
so `grpcurl describe shopsync.v1.QueueService` shows the comments and
`grpcurl describe shopsync.v1.QueueService.GetQueueStats` finds the method.
Everything else (health, reflection itself) is answered as grpcio-reflection does.
"""

from __future__ import annotations

from importlib import resources
from typing import Any, Iterable

import grpc
from google.protobuf import descriptor_pb2
from grpc_reflection.v1alpha import reflection, reflection_pb2, reflection_pb2_grpc


def _load() -> dict[str, descriptor_pb2.FileDescriptorProto]:
    data = resources.files("shopsync.v1").joinpath("descriptors.binpb").read_bytes()
    files = {f.name: f for f in descriptor_pb2.FileDescriptorSet.FromString(data).file}
    for f in files.values():
        # Served without json_name, as grpcio-reflection serves them: JSON tools (grpcurl) keep
        # the field names of the protos (`dead_letters`), as they always showed them.
        for m in _all_messages(f.message_type):
            for fd in m.field:
                fd.ClearField("json_name")
    return files


def _all_messages(items: Iterable[descriptor_pb2.DescriptorProto]) -> Iterable[descriptor_pb2.DescriptorProto]:
    for m in items:
        yield m
        yield from _all_messages(m.nested_type)


def _symbols(files: Iterable[descriptor_pb2.FileDescriptorProto]) -> dict[str, str]:
    """Fully qualified name -> file, for messages (nested too), enums, services and methods."""
    index: dict[str, str] = {}

    def messages(prefix: str, items: Iterable[descriptor_pb2.DescriptorProto], name: str) -> None:
        for m in items:
            full = f"{prefix}.{m.name}"
            index[full] = name
            messages(full, m.nested_type, name)
            for e in m.enum_type:
                index[f"{full}.{e.name}"] = name

    for f in files:
        prefix = f.package
        messages(prefix, f.message_type, f.name)
        for e in f.enum_type:
            index[f"{prefix}.{e.name}"] = f.name
        for s in f.service:
            index[f"{prefix}.{s.name}"] = f.name
            for method in s.method:
                index[f"{prefix}.{s.name}.{method.name}"] = f.name
    return index


class CommentedReflection(reflection.ReflectionServicer):
    def __init__(self, service_names: Iterable[str]) -> None:
        super().__init__(service_names)
        self._files = _load()
        self._symbols = _symbols(self._files.values())

    def _answer(self, request: Any, filename: str) -> reflection_pb2.ServerReflectionResponse:
        wanted, todo = [], [filename]
        while todo:  # the file and everything it imports, each once
            name = todo.pop()
            if name in wanted or name not in self._files:
                continue
            wanted.append(name)
            todo.extend(self._files[name].dependency)
        return reflection_pb2.ServerReflectionResponse(
            file_descriptor_response=reflection_pb2.FileDescriptorResponse(
                file_descriptor_proto=[self._files[n].SerializeToString() for n in wanted]),
            original_request=request)

    def _file_by_filename(self, request: Any, filename: str) -> Any:
        if filename in self._files:
            return self._answer(request, filename)
        return super()._file_by_filename(request, filename)

    def _file_containing_symbol(self, request: Any, fully_qualified_name: str) -> Any:
        name = fully_qualified_name.lstrip(".")
        if name in self._symbols:
            return self._answer(request, self._symbols[name])
        return super()._file_containing_symbol(request, fully_qualified_name)


def enable(service_names: Iterable[str], server: grpc.Server) -> None:
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(CommentedReflection(service_names), server)
