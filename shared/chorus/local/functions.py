"""Lambda functions as the embedded runtime runs them: the real handler module, loaded from the
template's CodeUri and Handler, invoked with a Lambda-like context."""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    timeout_s: float
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_s
        self.log_group_name = f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class LocalFunction:
    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler: str
    environment: dict[str, str]
    timeout_s: float
    memory_mb: int
    properties: dict[str, Any]
    namespace: str
    _idle: list[Callable[..., Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    invocations: int = 0
    errors: int = 0
    environments: int = 0

    def load(self) -> Callable[..., Any]:
        """A handler from an idle execution environment, or from a new one when all are busy.

        As on Lambda, an environment runs one invocation at a time: module globals (a batch
        processor, cached clients) are never shared by two invocations running at once."""
        with self._lock:
            if self._idle:
                return self._idle.pop()
            self.environments += 1
            number = self.environments
            module_file, attr = self.handler.rsplit(".", 1)
            path = self.code_dir / (module_file.replace(".", "/") + ".py")
            if not path.exists():
                raise FileNotFoundError(f"{self.logical_id}: handler module {path} does not exist")
            # Each function is its own process on Lambda: modules local to its code (chalicelib, ...)
            # are loaded afresh for it, never shared with another runtime's copy.
            for name, module in list(sys.modules.items()):
                origin = getattr(module, "__file__", None) or ""
                if origin.startswith(str(self.code_dir) + "/"):
                    del sys.modules[name]
            if str(self.code_dir) not in sys.path:
                sys.path.append(str(self.code_dir))  # as /var/task is on Lambda
            mod_name = f"{self.namespace}_{self.logical_id}_{number}"
            spec = importlib.util.spec_from_file_location(mod_name, path)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load {path}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[mod_name] = module
            spec.loader.exec_module(module)
            handler: Callable[..., Any] = getattr(module, attr)
            return handler

    def release(self, handler: Callable[..., Any]) -> None:
        with self._lock:
            self._idle.append(handler)

    def invoke(self, event: Any) -> Any:
        handler = self.load()
        context = LambdaContext(self.name, self.memory_mb, self.arn, self.timeout_s)
        with self._lock:
            self.invocations += 1
        try:
            return handler(event, context)
        except Exception:
            with self._lock:
                self.errors += 1
            raise
        finally:
            self.release(handler)
