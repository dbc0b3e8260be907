"""One place that creates the Powertools Logger, Metrics and (lazily) Tracer.

The Tracer imports the X-Ray SDK (~375 ms of cold start), so it is created only by functions whose
traces are worth it, through ``get_tracer()``; hot paths (webhook receiver, publisher) never call it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics

from chorus.config import cached

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

logger = Logger(service="chorus")
metrics = Metrics(namespace="Chorus", service="chorus")


@cached
def get_tracer() -> Tracer:
    from aws_lambda_powertools import Tracer

    return Tracer(service="chorus")
