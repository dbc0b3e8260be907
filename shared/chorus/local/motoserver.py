"""The moto server the embedded runtime starts, with speed-ups that change no answer.

moto is written for correctness, not load; under the runtime's traffic (1,000 delayed messages in one
queue, thousands of calls a minute) a few hot spots dominated its CPU time (profiled with py-spy):

* every request asked ``list_of_moto_modules()`` which lists moto's package directory and stats each
  entry, under the dispatcher's global lock: the list never changes while the server runs, so it is read
  once; finding the backend for a host is likewise remembered per host;
* SQS computed the whole attribute dict of a queue (three passes over all its messages) to read one
  attribute, on every send and for every received message: those two reads now look at the attribute;
* a message's ``visible``/``delayed`` went through ``datetime`` arithmetic for each message of each pass:
  now the same comparison on ``time.time()``;
* every Query listed and sorted the whole table (Python-level comparisons of every item) before
  keeping one partition or index key, and sized every item of the partition before applying the key
  condition: a table query reads its partition's items in the key range, an index query filters the
  unsorted items (both sort what they keep, and apply every condition, as before);
* every new DynamoDB item was sized once per attribute, over all the attributes set before: once;
* every condition expression was parsed again for every item checked: each distinct one is parsed once;
* EventBridge compiled the same JSONPath expressions (with a freshly built parser) for every event and
  target it delivered: each is compiled once;
* werkzeug logged every request line to a stderr nobody reads;
* DynamoDB's data-plane answers (items: plain JSON already) went through moto's model-driven serializer,
  attribute by attribute: they are written with ``json.dumps``, the same body; and every JSON-protocol
  request moto parses (DynamoDB, SQS) is read with ``json.loads`` unless it may carry a value moto's
  parser converts (a blob, a timestamp, a float), the same dict (tests/unit/test_local_motoserver.py
  compares both ways on every operation and attribute type);
* moto listed a response class's methods with ``inspect.getmembers`` on every request: once;

And two fixes that change what a racing client sees, to what AWS answers. SQS deleted a message by
replacing the queue's list without the lock sends take: a message sent meanwhile was lost, and a
concurrent delete could put a deleted message back in flight; deletes and receives now hold the queue's
lock. And moto's TransactWriteItems
deep-copies every table it touches (O(table)) and, when a condition fails, puts the copy back -
discarding every write other requests made meanwhile (the server is threaded), stream records included.
Here DynamoDB requests are served one at a time (as the GIL nearly does anyway), and a cancelled
transaction restores only the items it touched and the stream records it added.

And S3 answers the browser as AWS does: a CORS preflight by the bucket's own CORS rules, unsigned (moto
checked the presigned PUT's signature against OPTIONS and refused), and no longer moto's allow-every-
origin default for every service.

Run as ``python -m chorus.local.motoserver -H 127.0.0.1 -p PORT`` (``-p 0 --port-file FILE``: a free
port, written to FILE once the server listens).
"""

from __future__ import annotations

import base64
import calendar
import functools
import json
import os
import sys
import threading
import time
from datetime import datetime
from typing import Any


def patch() -> None:
    from moto import backends
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler
    from moto.sqs import models as sqs

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules

    find_backend = DomainDispatcherApplication.get_backend_for_host

    @functools.wraps(find_backend)
    def backend_for_host(self: DomainDispatcherApplication, host: str | None) -> Any:
        remembered: dict[str | None, Any] = self.__dict__.setdefault("_chorus_backends", {})
        if host not in remembered:
            remembered[host] = find_backend(self, host)
        return remembered[host]

    DomainDispatcherApplication.get_backend_for_host = backend_for_host  # type: ignore[method-assign]

    def retained(self: sqs.SQSBackend, queue_name: str, message: sqs.Message) -> bool:
        queue = self.get_queue(queue_name)
        retention = int(getattr(queue, "message_retention_period"))  # noqa: B009 - set by moto from the attribute
        return retention + (message.sent_timestamp or 0) / 1000 > time.time()

    sqs.SQSBackend.is_message_valid_based_on_retention_period = retained  # type: ignore[method-assign]

    attributes = sqs.Queue.attributes.fget  # type: ignore[attr-defined]
    send = sqs.SQSBackend.send_message
    sending = threading.local()  # the queue this thread is sending to, if any

    @functools.wraps(send)
    def send_message(self: sqs.SQSBackend, queue_name: str, *args: Any, **kwargs: Any) -> Any:
        sending.queue = self.get_queue(queue_name)
        try:
            return send(self, queue_name, *args, **kwargs)
        finally:
            sending.queue = None

    def queue_attributes(self: sqs.Queue) -> dict[str, Any]:
        if getattr(sending, "queue", None) is self:
            # all send_message reads of it: FIFO attributes are present only on FIFO queues
            if not self.fifo_queue:
                return {}
            return {
                "ContentBasedDeduplication": str(
                    bool(getattr(self, "content_based_deduplication", False))
                ).lower()
            }
        found: dict[str, Any] = attributes(self)
        return found

    sqs.SQSBackend.send_message = send_message  # type: ignore[method-assign]
    sqs.Queue.attributes = property(queue_attributes)  # type: ignore[assignment,method-assign]

    sqs.Message.visible = property(lambda self: time.time() * 1000 > self.visible_at)  # type: ignore[assignment,method-assign]
    sqs.Message.delayed = property(lambda self: time.time() * 1000 < self.delayed_until)  # type: ignore[assignment,method-assign]

    _sqs_queue_changes_locked()
    _events_paths_compiled_once()
    _dynamodb_items_sized_once()
    _dynamodb_conditions_parsed_once()
    _dynamodb_one_at_a_time()
    _dynamodb_plain_json()
    _plain_json_requests()
    _action_names_listed_once()
    _dynamodb_query_without_sorting_the_table()
    _s3_preflight_unsigned()

    MotoRequestHandler.log_request = lambda self, code="-", size="-": None  # type: ignore[method-assign]


def _sqs_queue_changes_locked() -> None:
    """moto appends a sent message to a queue under the queue's lock, but deletes by building a new list
    without the deleted message and assigning it, unlocked: a message sent meanwhile was lost, and of two
    concurrent deletes the second put the first one's message back (in flight until its visibility
    timeout, then delivered again). Receives (which mark messages in flight and move exhausted ones to
    the DLQ) and deletes now change a queue under its lock, as sends do."""
    from moto.sqs import models as sqs

    delete = sqs.Queue.delete_message

    @functools.wraps(delete)
    def delete_message(self: sqs.Queue, receipt_handle: str) -> None:
        with self._messages_lock:
            delete(self, receipt_handle)

    receive = sqs.SQSBackend.receive_message

    @functools.wraps(receive)
    def receive_message(self: sqs.SQSBackend, queue_name: str, *args: Any, **kwargs: Any) -> Any:
        with self.get_queue(queue_name)._messages_lock:  # released while a long poll waits
            return receive(self, queue_name, *args, **kwargs)

    def delete_message_batch(
        self: sqs.SQSBackend, queue_name: str, receipts: list[dict[str, Any]]
    ) -> tuple[list[str], list[dict[str, str]]]:
        """The batch in one pass over the queue (moto passed over the whole queue twice per message:
        a batch of ten cost twenty passes over a backlog of thousands); the same answers."""
        queue = self.get_queue(queue_name)
        wanted = {r["ReceiptHandle"] for r in receipts}
        with queue._messages_lock:
            settled = {h for h in wanted if h in queue.deleted_messages}
            kept = []
            for message in queue._messages:
                handles = message.all_receipt_handles
                hits = wanted.intersection(handles)
                if not hits:
                    kept.append(message)
                    continue
                settled |= hits
                queue.pending_messages.discard(message)
                queue.deleted_messages.update(h for h in handles if h is not None)
            queue._messages = kept
        success = [r["Id"] for r in receipts if r["ReceiptHandle"] in settled]
        errors = [
            {
                "Id": r["Id"],
                "SenderFault": True,
                "Code": "ReceiptHandleIsInvalid",
                "Message": f'The input receipt handle "{r["ReceiptHandle"]}" is not a valid receipt handle.',
            }
            for r in receipts
            if r["ReceiptHandle"] not in settled
        ]
        return success, errors

    sqs.Queue.delete_message = delete_message  # type: ignore[method-assign]
    sqs.SQSBackend.receive_message = receive_message  # type: ignore[method-assign]
    sqs.SQSBackend.delete_message_batch = delete_message_batch  # type: ignore[method-assign]


def _events_paths_compiled_once() -> None:
    """EventBridge's rule targets build each event's input from JSONPath expressions (the default
    template's too); moto compiles every expression for every event and target, and jsonpath-ng builds a
    new yacc parser to do it (half the server's CPU under a burst of PutEvents). Compiled paths are
    immutable: each expression is compiled once."""
    import jsonpath_ng.ext

    compile_path = jsonpath_ng.ext.parse  # type: ignore[attr-defined]
    jsonpath_ng.ext.parse = functools.lru_cache(maxsize=256)(compile_path)  # type: ignore[attr-defined]


def _dynamodb_items_sized_once() -> None:
    """moto checks the 400 KB item limit on every attribute it sets, summing the sizes of all the
    attributes set before: building an item of n attributes sized O(n^2) attribute values (a tenth of
    the DynamoDB server's CPU in the inbox burst). A new item is sized once: the sums only grow, so the
    last one exceeds the limit exactly when one of moto's would have."""
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models import dynamo_type as dt
    from moto.dynamodb.models.utilities import bytesize

    def item_init(
        self: dt.Item, hash_key: dt.DynamoType, range_key: dt.DynamoType | None, attrs: dict[str, Any]
    ) -> None:
        self.hash_key = hash_key
        self.range_key = range_key
        values = {key: dt.DynamoType(value) for key, value in attrs.items()}
        size: int = sum(bytesize(key) + int(value.size()) for key, value in values.items())
        if size > ITEM_LIMIT:
            raise ItemSizeTooLarge
        self.attrs = dt.LimitedSizeDict()
        dict.update(self.attrs, values)  # no per-attribute check: done above

    dt.Item.__init__ = item_init  # type: ignore[method-assign]


def _dynamodb_conditions_parsed_once() -> None:
    """moto parses a condition expression anew for every item it checks (lexer, parser, and checks of
    every name and value: an eighth of the DynamoDB server's CPU in an inbox burst), while a service
    writes the same few conditions over and over (``attribute_not_exists(pk)``, ``version = :v`` with
    the same handful of versions). A parsed condition is kept, keyed by its expression, names and
    values; moto evaluates it against each item without changing it. Expressions that fail to parse
    are not kept: they raise again, as before."""
    from moto.dynamodb import comparisons
    from moto.dynamodb import models as ddb
    from moto.dynamodb.models import table

    parse = comparisons.get_filter_expression

    @functools.lru_cache(maxsize=4096)
    def parsed(expr: str | None, names: str, values: str) -> Any:
        return parse(expr, json.loads(names), json.loads(values))

    @functools.wraps(parse)
    def get_filter_expression(expr: str | None, names: Any, values: Any) -> Any:
        return parsed(expr, json.dumps(names, sort_keys=True), json.dumps(values, sort_keys=True))

    ddb.get_filter_expression = get_filter_expression  # type: ignore[attr-defined]
    table.get_filter_expression = get_filter_expression  # type: ignore[attr-defined]


ITEM_LIMIT = 405000  # moto's: "the actual limit is between 409 and 410KB"


DYNAMODB_LOCK = threading.RLock()
"""Held while moto's DynamoDB answers a request (and rolls back a failed transaction)."""


def dynamodb_requests_one_at_a_time() -> None:
    """moto answers one DynamoDB request at a time, as DynamoDB applies a conditional write atomically:
    moto checks a condition and then writes, so two threads' conditional puts could both succeed. Used by
    the server and by in-process moto in tests whose threads race on a condition. Applied once."""
    from moto.dynamodb.responses import DynamoHandler

    if getattr(DynamoHandler.call_action, "chorus_serialised", False):
        return
    call_action = DynamoHandler.call_action

    @functools.wraps(call_action)
    def serialised(self: DynamoHandler) -> Any:
        with DYNAMODB_LOCK:
            return call_action(self)

    serialised.chorus_serialised = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = serialised  # type: ignore[method-assign]


def _dynamodb_one_at_a_time() -> None:
    import copy

    from moto.dynamodb import models as ddb
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    dynamodb_requests_one_at_a_time()

    class _NoTableCopy:
        """``copy`` as moto's DynamoDB backend sees it: a Table is not copied (the caller restores)."""

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    setattr(ddb, "copy", _NoTableCopy)  # noqa: B010 - the module global its functions read
    transact = ddb.DynamoDBBackend.transact_write_items

    def touched(backend: ddb.DynamoDBBackend, transact_items: list[dict[str, Any]]) -> list[Any]:
        saved = []
        for entry in transact_items:
            (_, op), *_ = entry.items()
            table = backend.tables.get(op.get("TableName", ""))
            if table is None:
                continue
            key = op.get("Key") or op.get("Item") or {}
            if table.hash_key_attr not in key:
                continue
            hk = DynamoType(key[table.hash_key_attr])
            rk = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
            if rk is None:
                found = table.items.get(hk)
            else:
                found = table.items[hk].get(rk) if hk in table.items else None
            saved.append((table, hk, rk, copy.deepcopy(found)))
        return saved

    def restore(saved: list[Any], streams: dict[Any, int]) -> None:
        for table, hk, rk, item in reversed(saved):
            if rk is None:
                if item is None:
                    table.items.pop(hk, None)
                else:
                    table.items[hk] = item
            elif item is None:
                if hk in table.items:
                    table.items[hk].pop(rk, None)
                    if not table.items[hk]:
                        del table.items[hk]
            else:
                table.items[hk][rk] = item
        for table, length in streams.items():
            del table.stream_shard.items[length:]

    @functools.wraps(transact)
    def transact_write_items(self: ddb.DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        with DYNAMODB_LOCK:
            saved = touched(self, transact_items)
            streams = {t: len(t.stream_shard.items) for t, *_ in saved if t.stream_shard is not None}
            try:
                transact(self, transact_items)
            except Exception:
                restore(saved, streams)
                raise

    ddb.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


PLAIN_JSON = frozenset(
    {("dynamodb", op) for op in ("GetItem", "BatchGetItem", "Query", "PutItem", "UpdateItem",
                                 "DeleteItem", "TransactGetItems", "BatchWriteItem", "TransactWriteItems")}
    | {("dynamodbstreams", "GetRecords")}
)  # fmt: skip


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime):  # the JSON protocol's epoch seconds, truncated to milliseconds
        seconds = calendar.timegm(value.utctimetuple())
        return seconds + (value.microsecond // 1000) / 1000.0 if value.microsecond else seconds
    raise TypeError(type(value).__name__)


def plain_json_body(result: Any, members: Any) -> str:
    """A result as the JSON protocol writes it: the output shape's members, values as they are."""
    return json.dumps({k: v for k, v in result.items() if k in members}, default=_json_default)


def _dynamodb_query_without_sorting_the_table() -> None:
    from moto.dynamodb.models.table import Table

    query = Table.query

    @functools.wraps(query)
    def partition_query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        range_comparison, range_objs = args[0], args[1]

        def candidates() -> list[Any]:
            if not self.range_key_attr:
                return list(self.items.values())
            if index_name is None:  # only hash_key's partition can match, and only in the key range
                partition = list(self.items[hash_key].values()) if hash_key in self.items else []
                if range_comparison and len(kwargs.get("range_key_conditions") or ()) <= 1:
                    partition = [i for i in partition if i.range_key.compare(range_comparison, range_objs)]
                return partition
            return [item for partition in self.items.values() for item in partition.values()]

        self.__dict__["all_items"] = candidates  # requests are served one at a time (see above)
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            del self.__dict__["all_items"]

    Table.query = partition_query  # type: ignore[method-assign]


def _dynamodb_plain_json() -> None:
    from moto.core.responses import ActionResult

    serialize = ActionResult.execute_result

    @functools.wraps(serialize)
    def execute_result(self: ActionResult, context: Any) -> Any:
        operation = context.operation_model
        service = context.service_model.service_name
        if (service, operation.name) not in PLAIN_JSON or not isinstance(self.result, dict):
            return serialize(self, context)
        try:
            body = plain_json_body(self.result, operation.output_shape.members)
        except (TypeError, ValueError):
            return serialize(self, context)
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, body

    ActionResult.execute_result = execute_result  # type: ignore[method-assign]


CONVERTED = frozenset({"blob", "timestamp", "float", "double"})  # what moto's JSON parser converts


@functools.lru_cache(maxsize=512)
def converted_members(service: str, operation: str) -> tuple[bytes, ...] | None:
    """The JSON keys (``b'"Name"'``) under which an operation's request may carry a value moto's JSON
    parser converts (base64 blobs to bytes, timestamps to datetimes, numbers to floats), anywhere in
    its input; None for an operation not spoken in the JSON protocol."""
    from moto.core.utils import get_service_model

    model = get_service_model(service)
    if model.protocol != "json":
        return None
    shape = model.operation_model(operation).input_shape
    names: set[str] = set()
    seen: set[str] = set()

    def converts(node: Any) -> bool:  # a converted type, or a list or map of them
        if node.type_name == "list":
            return converts(node.member)
        if node.type_name == "map":
            return converts(node.value)
        return node.type_name in CONVERTED

    def walk(node: Any) -> None:
        if node is None or node.name in seen:
            return
        seen.add(node.name)
        if node.type_name == "structure" and not node.is_document_type:
            for name, member in node.members.items():
                if converts(member):
                    names.update({name, member.serialization.get("name", name)})
                walk(member)
        elif node.type_name == "list":
            walk(node.member)
        elif node.type_name == "map":
            walk(node.value)

    walk(shape)
    return tuple(sorted(f'"{name}"'.encode() for name in names))


def plain_json_params(body: bytes, converted: tuple[bytes, ...]) -> dict[str, Any] | None:
    """A JSON-protocol request body as moto's model-driven parser reads it, when ``json.loads`` reads
    it the same: every member as it is, unless one the parser converts may be there (one of
    ``converted`` appears in the body; a string equal to such a name is counted too and left to the
    parser) or a member is sent as ``null`` (the parser drops those). None: ask the parser."""
    if any(name in body for name in converted):
        return None
    try:
        params = json.loads(body) if body else {}
    except ValueError:
        return None
    if not isinstance(params, dict) or (b"null" in body and _holds_null(params)):
        return None
    return params


def _holds_null(value: Any) -> bool:
    """A member (a dict's value) that is null, at any depth."""
    if isinstance(value, dict):
        return any(v is None or _holds_null(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_null(v) for v in value)
    return False


def _plain_json_requests() -> None:
    """JSON-protocol requests (DynamoDB, SQS, EventBridge, ...) are read with ``json.loads`` when that
    gives what moto's parser gives: moto walked each one through botocore's shapes, member by member
    (a sixth of the DynamoDB server's CPU in an inbox burst), to build the same dict."""
    from moto.core.responses import BaseResponse

    parse = BaseResponse.parse_parameters

    @functools.wraps(parse)
    def parse_parameters(self: BaseResponse, request: Any) -> None:
        try:
            converted = converted_members(self.boto3_service_name, self._get_action())
        except Exception:  # an operation moto's model does not know: its parser answers as it does
            converted = None
        if converted is not None and "json" in (request.content_type or ""):
            params = plain_json_params(request.data, converted)
            if params is not None:
                self.params = params
                return
        parse(self, request)

    BaseResponse.parse_parameters = parse_parameters  # type: ignore[method-assign]


def _s3_preflight_unsigned() -> None:
    """A browser's CORS preflight (OPTIONS) before a presigned PUT carries the PUT's query string but is
    no signed request: S3 answers it from the bucket's CORS rules alone, where moto checked the query's
    signature against the preflight's headers (403 SignatureDoesNotMatch: the web app could not upload)."""
    from moto.s3.responses import S3Response

    answer, key_response = S3Response._response_options, S3Response._key_response

    @functools.wraps(key_response)
    def preflight_unsigned(self: S3Response, request: Any, full_url: str) -> Any:
        if request.method != "OPTIONS":
            return key_response(self, request, full_url)
        self._authenticate_and_authorize_s3_action = lambda **_: None  # type: ignore[method-assign]
        return answer(self, request.headers, self.parse_bucket_name_from_url(request, full_url))

    setattr(S3Response, "_key_response", preflight_unsigned)  # noqa: B010 - moto's own name


def _action_names_listed_once() -> None:
    """moto listed a response class's methods (``inspect.getmembers``) on every request to check the
    action exists: a tenth of a request's time in the server. A class's methods are listed once
    (every patch is applied before the server serves)."""
    from moto.core import responses, utils

    listed = functools.lru_cache(maxsize=None)(utils.method_names_from_class)
    setattr(responses, "method_names_from_class", listed)  # noqa: B010 - the name moto's dispatch reads


def serve(host: str, port: int, threads: int = 48, port_file: str | None = None) -> None:
    """moto's WSGI application on waitress: werkzeug's development server closes every connection
    (a TCP handshake and a new thread per AWS call); waitress keeps connections alive and works
    requests on a fixed pool (long polls hold one thread each while they wait). Port 0: a free one,
    written to ``port_file`` once the server listens."""
    import waitress
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    app = DomainDispatcherApplication(create_backend_app)
    server = waitress.create_server(app, host=host, port=port, threads=threads, ident="moto")
    bound = int(server.effective_port)
    os.environ.setdefault("MOTO_PORT", str(bound))
    if port_file:
        written = f"{port_file}.tmp"
        with open(written, "w") as out:
            out.write(str(bound))
        os.replace(written, port_file)  # whole, never half-written
    server.run()


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True, help="0: a free port")
    parser.add_argument("--port-file", help="where to write the port the server listens on")
    args = parser.parse_args(argv if argv is not None else sys.argv[1:])
    # S3 answers a browser's cross-origin request by the bucket's CORS rules (template.yaml's, applied by
    # chorus.local.provision), not moto's allow-every-origin default: read when moto is first imported
    os.environ.setdefault("MOTO_DISABLE_GLOBAL_CORS", "true")
    patch()
    serve(args.host, args.port, port_file=args.port_file)


if __name__ == "__main__":
    main()
