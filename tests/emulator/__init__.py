"""A fake GitHub on loopback sockets for the tests: reports API, signed downloads,
the Actions results service and an Azure-like blob store, with injectable faults."""

from .blobstore import BlobBackend, LocalBlobBackend
from .core import Emulator
from .data import make_users_shard
from .results import StoredArtifact
from .server import Fault, Recorded

__all__ = [
    "BlobBackend",
    "Emulator",
    "Fault",
    "LocalBlobBackend",
    "Recorded",
    "StoredArtifact",
    "make_users_shard",
]
