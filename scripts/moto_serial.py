"""moto's server with request handling serialized: `moto_serial.py HOST PORT`.

moto's backends are not thread-safe: two concurrent DynamoDB TransactWriteItems whose conditions
both name the same item version can both succeed, where DynamoDB lets exactly one win. The
platform relies on that atomicity (conditional state transitions), so the local emulator handles
one AWS call at a time; connections are still accepted concurrently.

Since every call waits for the one before it, moto's own costs set the pace of a whole test run:
below, three that grow with the table or the item (a transaction's backup, a query's sort of the
whole table, an item read's serialization) and one paid on every request are cut, each without
changing what moto answers.
"""
import sys
import threading

from werkzeug.serving import run_simple

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app


# moto's TransactWriteItems backs up, for its rollback, a deep copy of the whole table for every
# item of the transaction: each transaction costs time in proportion to everything the table
# holds. A table that grows through a long run (the browser tests' outbox, trails, sessions and
# codes, after the demo and schemathesis wrote to the same table) made every transaction take
# seconds, and since calls are served one at a time, every other call waited behind it: sign-ins,
# trails and uploads stalled past the browser tests' 15 s and failed at random, late in a run.
# Here the backup holds only the items the transaction names (a transaction touches nothing
# else), and the rollback puts those back; moto's own checks and writes are unchanged.
import copy as _copy

import moto.dynamodb.models as _ddb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table


class _Backup:
    """What moto's rollback puts back in place of a table: the table and its named items as they were."""

    def __init__(self, table, items):
        self.table, self.items = table, items


class _Copy:
    """moto's `copy` module, but a table is backed up as `_Backup` of the items being written."""

    items = None

    def __getattr__(self, name):
        return getattr(_copy, name)

    def deepcopy(self, x, memo=None):
        if self.items is not None and isinstance(x, Table):
            return _Backup(x, self.items.get(x.name, []))
        return _copy.deepcopy(x, memo)


_COPY = _Copy()
_ddb_models.copy = _COPY
_transact_write_items = DynamoDBBackend.transact_write_items


def _named_items(backend, transact_items):
    """Per table, (hash, range, a copy of the item or None) of each item the transaction names."""
    named = {}
    for entry in transact_items:
        try:
            op_type, op = next(iter(entry.items()))
            table = backend.get_table(op["TableName"])
            if op_type == "Put":
                attrs = op["Item"]
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]
            hash_key, range_key = backend.get_keys_value(table, key)
            current = table.get_item(hash_key, range_key)
        except Exception:  # a malformed entry: moto's own checks refuse it before writing anything
            continue
        named.setdefault(table.name, []).append((hash_key, range_key, _copy.deepcopy(current)))
    return named


def transact_write_items(self, transact_items):
    _COPY.items = _named_items(self, transact_items)
    try:
        return _transact_write_items(self, transact_items)
    finally:
        _COPY.items = None
        for name, kept in list(self.tables.items()):
            if isinstance(kept, _Backup):
                self.tables[name] = kept.table
                # Backwards, so that an item named twice ends as it was first.
                for hash_key, range_key, item in reversed(kept.items):
                    kept.table.delete_item(hash_key, range_key)
                    if item is not None and range_key:
                        kept.table.items[hash_key][range_key] = item
                    elif item is not None:
                        kept.table.items[hash_key] = item


DynamoDBBackend.transact_write_items = transact_write_items


# moto's Query starts from `Table.all_items()`: every item of the table, sorted. Each Query then
# costs time in proportion to the whole table (and its sort), not to what it reads: the end-to-end
# suite's one table made Query take 150 ms on average and about a third of the emulator's time.
# Here a Query on the table reads its one partition, and a Query on an index the items unsorted
# (moto sorts what matches by the index's keys afterwards); what it answers is unchanged.
_table_query = Table.query


def _unsorted_items(table):
    if table.range_key_attr:
        return [item for partition in table.items.values() for item in partition.values()]
    return list(table.items.values())


def query(self, hash_key, *args, **kwargs):
    index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
    if index_name is None and hash_key is not None:
        partition = self.items.get(hash_key)
        if partition is None:
            candidates = []
        elif self.range_key_attr:
            candidates = list(partition.values())
        else:
            candidates = [partition]
    else:
        candidates = _unsorted_items(self)
    # An instance attribute shadows the method for this one call (calls are served one at a time).
    self.all_items = lambda: candidates
    try:
        return _table_query(self, hash_key, *args, **kwargs)
    finally:
        del self.all_items


Table.query = query

# moto answers an item read by walking the botocore output shape member by member, trying several
# spellings of each name (about 20 ms for one of our records, most of the emulator's time once
# queries were fixed). The answers of the reads are already DynamoDB's JSON, but for binary values
# (raw bytes, sent base64): those are written directly. Checked by running the end-to-end suite with
# both answers computed for every read (4,106 GetItem, 631 Query, 319 BatchGetItem): the same JSON.
import base64 as _base64

from moto.core.serialize import BaseJSONSerializer

_ITEM_READS = {"GetItem", "BatchGetItem", "Query"}
_serialize_result = BaseJSONSerializer._serialize_result


def _wire(value):
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_wire(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return _base64.b64encode(value).decode("ascii")
    return value


def _serialize_item_read(self, resp, result):
    model = self.operation_model
    if model.service_model.service_name == "dynamodb" and model.name in _ITEM_READS and isinstance(result, dict):
        return self._serialized_result_to_response(resp, result, model.output_shape, _wire(result))
    return _serialize_result(self, resp, result)


BaseJSONSerializer._serialize_result = _serialize_item_read

# moto finds the service of every request by listing its own package directory (a stat per
# service, about 400 of them) twice per request: listed once here.
import moto.backends as _backends

_MODULES = tuple(_backends.list_of_moto_modules())
_backends.list_of_moto_modules = lambda: _MODULES

app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()


def serialized(environ, start_response):
    with lock:
        # Materialize the body inside the lock: moto builds it from shared state.
        return list(app(environ, start_response))


run_simple(sys.argv[1], int(sys.argv[2]), serialized, threaded=True, request_handler=MotoRequestHandler)
