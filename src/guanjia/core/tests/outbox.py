"""E-mail and SMS backends that append each message sent to one file, for tests and benchmarks
that run several processes and must show that nothing was sent twice.

The file is `GUANJIA_TEST_OUTBOX` (one JSON object per line, appended with O_APPEND so lines from
concurrent processes do not interleave). `read_outbox` reads it back.
"""

import json
import os
from collections.abc import Mapping
from pathlib import Path

from django.core.mail.backends.base import BaseEmailBackend

from guanjia.notifications.sms import SmsGateway


def _append(record: dict) -> None:
    line = (json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode()
    fd = os.open(os.environ["GUANJIA_TEST_OUTBOX"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


class RecordingEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        for message in email_messages:
            _append({"via": "email", "to": list(message.to), "subject": message.subject, "body": message.body})
        return len(email_messages)


class RecordingSmsGateway(SmsGateway):
    def send(self, phone: str, template_code: str, params: Mapping[str, str]) -> str:
        _append({"via": "sms", "to": phone, "template": template_code, "params": dict(params)})
        return f"test-{os.getpid()}"


def read_outbox(path: str | Path) -> list[dict]:
    path = Path(path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
