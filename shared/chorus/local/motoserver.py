"""The moto server the embedded runtime starts, with four speed-ups that change no answer.

moto is written for correctness, not load; under the runtime's traffic (1,000 delayed messages in one
queue, thousands of calls a minute) four hot spots dominated its CPU time (profiled with py-spy):

* every request asked ``list_of_moto_modules()`` which lists moto's package directory and stats each
  entry, under the dispatcher's global lock: the list never changes while the server runs, so it is read
  once; finding the backend for a host is likewise remembered per host;
* SQS computed the whole attribute dict of a queue (three passes over all its messages) to read one
  attribute, on every send and for every received message: those two reads now look at the attribute;
* a message's ``visible``/``delayed`` went through ``datetime`` arithmetic for each message of each pass:
  now the same comparison on ``time.time()``;
* werkzeug logged every request line to a stderr nobody reads.

Run as ``python -m chorus.local.motoserver -H 127.0.0.1 -p PORT`` (the arguments of ``moto.server``).
"""

from __future__ import annotations

import functools
import sys
import threading
import time
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

    MotoRequestHandler.log_request = lambda self, code="-", size="-": None  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> None:
    patch()
    from moto.server import main as moto_main

    moto_main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
