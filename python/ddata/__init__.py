"""ddata: replicated, durable state (CRDTs, gossip, an event journal, a
durable state store) through the ddata C library.

Everything here is a thin wrapper: each method is one call into the C ABI
plus conversions (str -> UTF-8 bytes in, bytes out, status -> exception).
"""
from ._core import (
    CrdtType,
    Limits,
    OpKind,
    Status,
    abi_version,
    init,
    status_name,
    status_str,
    version,
    version_number,
)
from ._crdt import (
    Crdt,
    Flag,
    GCounter,
    GCounterMap,
    GSet,
    LWWMap,
    LWWRegister,
    MVRegister,
    Op,
    ORMap,
    ORMultiMap,
    ORSet,
    PNCounter,
    PNCounterMap,
    needs_causal_delta,
    type_name,
)
from ._errors import (
    Busy,
    Conflict,
    Corrupt,
    CryptoError,
    Deleted,
    Done,
    Error,
    InvalidArgument,
    IOError_,
    LimitExceeded,
    Misuse,
    NotFound,
    OutOfMemory,
    Timeout,
    TypeMismatch,
    Unsupported,
    clear_error,
    last_error,
)
from ._store import (
    ANY_REVISION,
    Backend,
    Event,
    Journal,
    JournalEvent,
    Keyring,
    PersistStrategy,
    SealAlgorithm,
    Snapshot,
    State,
    StateStore,
    Sync,
    seal_algorithm_available,
)
from ._system import (
    Consistency,
    DeltaStrategy,
    EventKind,
    FlagRef,
    GCounterMapRef,
    GCounterRef,
    GSetRef,
    KeyRef,
    LWWMapRef,
    LWWRegisterRef,
    MemberState,
    MVRegisterRef,
    ORMapRef,
    ORMultiMapRef,
    ORSetRef,
    PNCounterMapRef,
    PNCounterRef,
    Replica,
    System,
    SystemEvent,
)

__version__ = "1.0.0"

__all__ = [
    "Consistency", "DeltaStrategy", "EventKind", "MemberState", "Replica", "System", "SystemEvent", "KeyRef",
    "FlagRef", "GCounterMapRef", "GCounterRef", "GSetRef", "LWWMapRef", "LWWRegisterRef", "MVRegisterRef", "ORMapRef",
    "ORMultiMapRef", "ORSetRef", "PNCounterMapRef", "PNCounterRef",
    "ANY_REVISION", "Backend", "Event", "Journal", "JournalEvent", "Keyring", "PersistStrategy", "SealAlgorithm", "Snapshot", "State",
    "StateStore", "Sync", "seal_algorithm_available",
    "Crdt", "Flag", "GCounter", "GCounterMap", "GSet", "LWWMap", "LWWRegister", "MVRegister", "Op", "ORMap",
    "ORMultiMap", "ORSet", "PNCounter", "PNCounterMap", "needs_causal_delta", "type_name",
    "Busy", "Conflict", "Corrupt", "CrdtType", "CryptoError", "Deleted", "Done", "Error",
    "IOError_", "InvalidArgument", "LimitExceeded", "Limits", "Misuse", "NotFound", "OpKind",
    "OutOfMemory", "Status", "Timeout", "TypeMismatch", "Unsupported", "abi_version",
    "clear_error", "init", "last_error", "status_name", "status_str", "version", "version_number",
]
