"""An S3-compatible server for tests: moto's S3 (the `moto[server]` package) on a free loopback
port, speaking the S3 REST wire protocol (signed requests, XML errors such as NoSuchKey), so
the `minio` client runs against it unchanged. It accepts any access key.

    with S3StandIn() as s3:
        Minio(s3.endpoint, access_key=s3.access_key, secret_key=s3.secret_key, secure=False)
"""

from __future__ import annotations

from types import TracebackType

from moto.server import ThreadedMotoServer


class S3StandIn:
    access_key = "standin-access-key"
    secret_key = "standin-secret-key"
    region = "us-east-1"

    def __init__(self) -> None:
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.endpoint = ""

    def __enter__(self) -> S3StandIn:
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"{host}:{port}"
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.stop()
