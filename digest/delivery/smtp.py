"""SMTP backend: any SMTP provider, or a local catcher such as Mailpit.

One connection is opened per send run and reused for every message (a new
TLS handshake and login per recipient would be slow and looks abusive to
providers). Before each message the connection is checked with NOOP and
reopened if the server dropped it, so an idle timeout never costs a message.

Outcomes map onto the ledger like this:

* refused before the message data left (connection, MAIL FROM, RCPT TO):
  failed; permanent for a 5xx answer about the recipient, transient otherwise;
* refused after the data (a 4xx/5xx reply to DATA): failed, the server said no;
* no reply after the data left (timeout, disconnect): uncertain, because the
  server may have queued the message before the connection broke.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from typing import Literal

from digest.delivery.base import Backend, OutgoingMessage, SendResult
from digest.delivery.mime import build_email
from digest.errors import DeliveryAuthError, DeliveryError

Security = Literal["starttls", "ssl", "none"]
HOST_HINT = "check delivery.smtp.host, delivery.smtp.port and delivery.smtp.security"


class SmtpBackend(Backend):
    name = "smtp"

    def __init__(
        self,
        host: str,
        port: int,
        *,
        security: Security = "starttls",
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        self.timeout = timeout
        self.ssl_context = ssl_context or ssl.create_default_context()
        self._connection: smtplib.SMTP | None = None
        # How many connections this backend opened (one per run, ideally).
        self.connections = 0

    def _where(self) -> str:
        return f"SMTP server {self.host}:{self.port}"

    def _connect(self) -> smtplib.SMTP:
        connection: smtplib.SMTP | None = None
        try:
            if self.security == "ssl":
                connection = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=self.ssl_context
                )
            else:
                connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            connection.ehlo()
            if self.security == "starttls":
                connection.starttls(context=self.ssl_context)
                connection.ehlo()
            if self.username:
                connection.login(self.username, self.password or "")
        except (OSError, smtplib.SMTPException) as err:
            if connection is not None:
                with contextlib.suppress(OSError):
                    connection.close()
            raise self._connect_error(err) from err
        self.connections += 1
        return connection

    def _connect_error(self, err: Exception) -> DeliveryError:
        if isinstance(err, smtplib.SMTPAuthenticationError):
            return DeliveryAuthError(
                f"{self._where()} refused the login for {self.username!r}: {_reply(err)}",
                hint="check delivery.smtp.username and SMTP_PASSWORD",
            )
        if isinstance(err, smtplib.SMTPNotSupportedError):
            return DeliveryAuthError(f"{self._where()} does not support {err}", hint=HOST_HINT)
        return DeliveryError(f"{self._where()} could not be reached ({err})", hint=HOST_HINT)

    def _live_connection(self) -> smtplib.SMTP:
        if self._connection is not None:
            try:
                status, _ = self._connection.noop()
                if status == 250:
                    return self._connection
            except (OSError, smtplib.SMTPException):
                pass  # dropped while idle: reconnect below
            self._drop()
        self._connection = self._connect()
        return self._connection

    def _drop(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(OSError):
                self._connection.close()
            self._connection = None

    def open(self) -> None:
        self._live_connection()

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._connection.quit()
            self._drop()

    def send(self, message: OutgoingMessage) -> SendResult:
        connection = self._live_connection()
        email = build_email(message)
        try:
            refused = connection.send_message(
                email, from_addr=message.from_email, to_addrs=[message.to_email]
            )
        except smtplib.SMTPRecipientsRefused as err:
            code, text = next(iter(err.recipients.values()))
            raise DeliveryError(
                f"{self._where()} refused {message.to_email}: {code} {_text(text)}",
                permanent=code >= 500,
            ) from err
        except smtplib.SMTPSenderRefused as err:
            raise DeliveryError(
                f"{self._where()} refused the sender {message.from_email}: "
                f"{err.smtp_code} {_text(err.smtp_error)}",
                hint="check newsletter.from_email against what the provider allows",
            ) from err
        except smtplib.SMTPDataError as err:
            raise DeliveryError(
                f"{self._where()} refused the message to {message.to_email}: "
                f"{err.smtp_code} {_text(err.smtp_error)}",
                permanent=err.smtp_code >= 500,
            ) from err
        except (smtplib.SMTPServerDisconnected, TimeoutError, OSError) as err:
            self._drop()
            raise DeliveryError(
                f"{self._where()} stopped answering while taking the message to "
                f"{message.to_email} ({err})",
                uncertain=True,
                hint=HOST_HINT,
            ) from err
        if refused:
            code, text = refused[message.to_email]
            raise DeliveryError(
                f"{self._where()} refused {message.to_email}: {code} {_text(text)}",
                permanent=code >= 500,
            )
        return SendResult(provider_message_id=message.message_id)


def _text(raw: bytes | str) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw


def _reply(err: smtplib.SMTPResponseException) -> str:
    return f"{err.smtp_code} {_text(err.smtp_error)}"
