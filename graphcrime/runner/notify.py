"""Tell someone a job ended: a command (status JSON on stdin), a JSON POST, or a plain email.

Notification failures are logged, never fatal: the job's outcome is already on disk.

>>> n = Notifier(command="cat")
>>> n.enabled
True
>>> email_text({"job_id": "j_2021-07-30_001", "status": "succeeded", "folder": "/out/j",
...             "counts": {"input_facts": 10}}).splitlines()[0]
'Job j_2021-07-30_001 succeeded.'
"""

from __future__ import annotations

import json
import shlex
import smtplib
import subprocess
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage

from graphcrime.errors import UsageError


def email_text(status: dict) -> str:
    lines = [f"Job {status.get('job_id')} {status.get('status')}.", ""]
    if status.get("error"):
        err = status["error"]
        lines.append(f"Error: {err.get('message')} ({err.get('type')})")
    for key, value in (status.get("counts") or {}).items():
        lines.append(f"{key}: {value:,}" if isinstance(value, int) else f"{key}: {value}")
    lines += ["", f"Results folder: {status.get('folder')}"]
    return "\n".join(lines) + "\n"


@dataclass
class Notifier:
    """Where to send a job's final status; build from CLI options, call :meth:`send`."""

    command: str | None = None
    url: str | None = None
    smtp: str | None = None
    mail_to: str | None = None
    mail_from: str = "graphcrime@localhost"
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if bool(self.smtp) != bool(self.mail_to):
            raise UsageError("--smtp and --mail-to go together",
                             hint="e.g. --smtp 127.0.0.1:25 --mail-to investigator@example.org")
        if self.smtp and not self.smtp.rpartition(":")[2].isdigit():
            raise UsageError(f"--smtp {self.smtp!r}: expected HOST:PORT",
                             hint="e.g. --smtp mail.example.org:25")
        if self.command is not None and not shlex.split(self.command):
            raise UsageError("--notify-command is empty", hint="e.g. --notify-command 'tee x'")

    @property
    def enabled(self) -> bool:
        return bool(self.command or self.url or self.smtp)

    def send(self, status: dict, log=None) -> list[str]:
        """Send to every configured target; return (and log) the failures as text."""
        failures = []
        for name, fn in (("command", self._command), ("url", self._post), ("smtp", self._mail)):
            if getattr(self, name):
                try:
                    fn(status)
                except Exception as e:  # noqa: BLE001 - a notification never fails a job
                    failures.append(f"notify {name} failed: {type(e).__name__}: {e}")
        for f in failures:
            if log:
                log(f)
        return failures

    def _command(self, status: dict) -> None:
        argv = shlex.split(self.command or "")
        done = subprocess.run(argv, input=json.dumps(status).encode(), capture_output=True,
                              timeout=self.timeout, check=False)
        if done.returncode:
            raise RuntimeError(f"{argv[0]} exited {done.returncode}: "
                               f"{done.stderr.decode(errors='replace')[:200]}")

    def _post(self, status: dict) -> None:
        req = urllib.request.Request(
            self.url or "", data=json.dumps(status).encode(), method="POST",
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310
            resp.read()

    def _mail(self, status: dict) -> None:
        host, _, port = (self.smtp or "").rpartition(":")
        msg = EmailMessage()
        msg["From"], msg["To"] = self.mail_from, self.mail_to
        msg["Subject"] = f"graphcrime job {status.get('job_id')} {status.get('status')}"
        msg.set_content(email_text(status))
        with smtplib.SMTP(host, int(port), timeout=self.timeout) as s:
            s.send_message(msg)
